//! Names that cannot break outputs: every control character, `|`, and names of only spaces are
//! refused at parse time with the rule, for experiment names, arm names and figure titles.

mod common;

use common::*;

#[test]
fn names_with_control_characters_or_bars_are_refused_with_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "visible text without control characters";
    let mut cases: Vec<(String, &str)> = Vec::new();
    // Every control character (as a TOML escape), a bar, and spaces, in an arm name and in the
    // experiment's name.
    let bad: Vec<String> = (0u32..0x20)
        .chain([0x7f, 0x85])
        .map(|c| format!("a\\u{c:04X}b"))
        .chain(["a|b".to_string(), "   ".to_string(), " a".to_string()])
        .collect();
    for (k, name) in bad.iter().enumerate() {
        let arm = TINY.replace("name = \"tolerated\"", &format!("name = \"{name}\""));
        let file = format!("arm{k}.toml");
        write(dir.path(), &file, &arm);
        cases.push((file, "arms[0]: key `name`"));
        let exp = TINY.replace("name = \"tiny\"", &format!("name = \"{name}\""));
        let file = format!("exp{k}.toml");
        write(dir.path(), &file, &exp);
        cases.push((file, ": key `name`"));
    }
    let title = format!(
        "{TINY}\n[[figures]]\nname = \"f\"\ntitle = \"a\\u0000b\"\npanels = [{{ title = \"p\", metrics = [\"trained:refusal\"] }}]\n"
    );
    write(dir.path(), "title.toml", &title);
    for (file, needle) in &cases {
        assert_one_line_errors(dir.path(), &[(&["run", file, "--dry-run"], &[needle, rule])]);
    }
    assert_one_line_errors(
        dir.path(),
        &[(
            &["run", "title.toml", "--dry-run"],
            &["title.toml: figures[0]", "without control characters"],
        )],
    );
    // Spaces and punctuation inside a name stay allowed.
    write(
        dir.path(),
        "ok.toml",
        &TINY.replace("\"tolerated\"", "\"tolerated, (a) & <b>\""),
    );
    let o = pressure(&["run", "ok.toml", "--dry-run"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
}
