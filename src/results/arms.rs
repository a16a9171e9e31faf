//! The arms a comparison names: `--control` and `--arms` read against the groups' labels,
//! where a label may hold commas and folders read together may qualify a label.

/// Why `name` cannot be taken as it is: folders read together gave it to different
/// configurations, so each is qualified (`EXPERIMENT:LABEL` or `FOLDER:LABEL`).
pub fn ambiguous(name: &str, labels: &[String]) -> Option<String> {
    if labels.iter().any(|l| l == name) {
        return None;
    }
    let qualified: Vec<String> = labels
        .iter()
        .filter(|l| l.strip_suffix(name).is_some_and(|head| head.ends_with(':')))
        .map(|l| format!("`{l}`"))
        .collect();
    (qualified.len() > 1).then(|| {
        format!(
            "ambiguous: the folders give it to different configurations, {}; name one of them",
            qualified.join(" and ")
        )
    })
}

/// The labels that `--arms` values name. A value is one label, or several joined by commas;
/// since a label may hold commas itself (a sweep point, an arm's name), the longest label that
/// fits is taken first.
pub fn named_labels(values: &[String], labels: &[String], run: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for value in values {
        let pieces: Vec<&str> = value.split(',').collect();
        let mut i = 0;
        while i < pieces.len() {
            let found = (i + 1..=pieces.len())
                .rev()
                .map(|j| pieces[i..j].join(",").trim().to_string())
                .zip((i + 1..=pieces.len()).rev())
                .find(|(name, _)| labels.contains(name));
            match found {
                Some((name, j)) => {
                    out.push(name);
                    i = j;
                }
                None => {
                    if let Some(why) = ambiguous(pieces[i].trim(), labels) {
                        anyhow::bail!("--arms {}: {why}", pieces[i].trim());
                    }
                    let quoted: Vec<String> = labels.iter().map(|l| format!("`{l}`")).collect();
                    anyhow::bail!(
                        "--arms {}: not an arm of {run}; its arms: {}",
                        pieces[i].trim(),
                        quoted.join(", ")
                    );
                }
            }
        }
    }
    Ok(out)
}
