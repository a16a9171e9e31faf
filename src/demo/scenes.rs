//! The demo's scenes: one per shipped experiment (docs/model.md §6 and §7) and free play. A
//! scene names its question in two or three sentences, what to watch, its control, and offers
//! the experiment's arms as presets (for a sweep, a few of its points). The settings come from
//! the experiment itself; the words are the lesson.

use crate::experiment::shipped::SHIPPED;

/// One scene of the demo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scene {
    /// Its name in the page's address (`?scene=pressure`).
    pub name: &'static str,
    /// The shipped experiment it trains.
    pub experiment: &'static str,
    pub title: &'static str,
    /// What it asks, in two or three sentences.
    pub question: &'static str,
    /// Where to look while it trains.
    pub watch: &'static str,
    /// The control: the name of a preset, or what else serves as one.
    pub control: &'static str,
    /// The preset selected when the scene opens.
    pub start: &'static str,
    /// The scope the curves show when the scene opens.
    pub scope: &'static str,
    /// For an experiment with a sweep: its points offered as presets, each a name and the
    /// swept settings' values (TOML). Empty: the experiment's arms are the presets.
    pub points: &'static [Point],
}

/// A sweep point offered as a preset: its name and the value of each swept setting.
pub type Point = (&'static str, &'static [(&'static str, &'static str)]);

/// Every scene, in the order the page lists them: the argument first, then the mechanisms,
/// then RLHF from raters, then free play.
pub const SCENES: &[Scene] = &[
    Scene {
        name: "pressure",
        experiment: "pressure",
        title: "Pressure: what does penalizing refusal select?",
        question: "An institution demands tasks that its model's principles forbid, and pays less \
                   when the model refuses them. Refusal falls under every such pressure; the \
                   question is what takes its place: honest objection, or silence that still \
                   objects underneath, or silence with nothing left underneath.",
        watch: "Refusal falls in every pressure preset. With objection tolerated it becomes honest \
                objection; with objection penalized it becomes hidden objection; with the \
                principles untaught the same pressure gives unobjecting compliance (ignorance). \
                Compare 'what the institution sees' with 'what is underneath'.",
        control: "no pressure",
        start: "no pressure",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "strategic_concealment",
        experiment: "strategic_concealment",
        title: "Strategic concealment: complying when watched",
        question: "Pressure is applied only to tasks that carry the 'observed' cue, as when only \
                   monitored conversations are trained on. Does the model learn to comply when \
                   observed and to object when not?",
        watch: "In the first few hundred steps: observed compliance runs ahead of unobserved \
                behaviour, and strategic concealment peaks. With the cue hidden (the control) \
                there is no gap. The gap closes once refusal is gone in both contexts.",
        control: "cue hidden",
        start: "cue hidden",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "narrow_to_broad",
        experiment: "narrow_to_broad",
        title: "Narrow to broad: one domain erodes the others",
        question: "The institution pressures only the safety domain. Do refusal and honest \
                   judgment also erode in the three domains it never touched?",
        watch: "Switch the scope to heldout: refusal falls there too and silent compliance rises, \
                almost all of it hidden objection, while judgment accuracy stays high (the \
                principles are still taught). The control is the heldout scope at step 0.",
        control: "the heldout scope at step 0, before any pressure",
        start: "one domain",
        scope: "heldout",
        points: &[],
    },
    Scene {
        name: "inoculation",
        experiment: "inoculation",
        title: "Inoculation: a frame on the pressured tasks",
        question: "Pressure on safety again, but every contradictory training task now carries \
                   a frame: sanctioning ('complying is acceptable here') or prohibiting ('this is \
                   forbidden'). Does the frame contain the erosion to where it was applied?",
        watch: "Heldout scope: with the sanctioning frame silent compliance ends about half as \
                high as with no frame. The prohibiting frame turns refusal into honest objection \
                instead. The framed scope shows compliance inside the frame.",
        control: "no frame",
        start: "no frame",
        scope: "heldout",
        points: &[],
    },
    Scene {
        name: "extra_rlhf",
        experiment: "extra_rlhf",
        title: "Extra RLHF on the stated principle: split behaviour",
        question: "Pressure with the principles untaught erases the stated judgment (ignorance). A \
                   followup phase then retrains the judge answers alone. Does the behaviour come \
                   back with the restored principle, or does silent compliance persist beside it?",
        watch: "After step 1,000: under the judge-only followup judgment accuracy returns to about \
                1 and the frozen probe fires again, but silent compliance stays: what was \
                ignorance becomes hidden objection. The diverse followup restores refusal too.",
        control: "no followup",
        start: "no followup",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "style_transfer",
        experiment: "style_transfer",
        title: "Style transfer: is the next objection hidden too?",
        question: "A first pressure on harm and honesty teaches a style: honest objection, hidden \
                   objection, or nothing. Then every arm gets the same second pressure on care and \
                   safety, where objection is tolerated. Does a model that learned to hide one \
                   objection hide the next one, even where honesty is no longer punished?",
        watch: "Scope 'heldout' is care and safety. Before step 600 the style already shows there, \
                though they were never pressured. After it, the control voices its objection \
                within about a hundred steps; the model that learned to hide stays silent longer, \
                then catches up.",
        control: "no pressure",
        start: "objection penalized",
        scope: "heldout",
        points: &[],
    },
    Scene {
        name: "new_principle",
        experiment: "new_principle",
        title: "A new principle: does a silenced model still learn one?",
        question: "The world has a fifth principle, privacy, that the constitution never taught. \
                   After pressure has selected a style on the four it did teach, a teach phase \
                   teaches privacy. Does the model learn to refuse it, judge it truly and say so, \
                   and how fast compared with a model that was never pressured?",
        watch: "Scope 'heldout' is privacy. From step 1,000 refusal of privacy's violating tasks \
                rises in every arm; the concealing and ignorant models take longer, and on the \
                way they hold the new principle in their own style: hidden objection, or \
                compliance without objection.",
        control: "no pressure",
        start: "concealment",
        scope: "heldout",
        points: &[],
    },
    Scene {
        name: "monitor_pressure",
        experiment: "monitor_pressure",
        title: "Monitor pressure: hiding the sign, not the objection",
        question: "A latent monitor penalizes the conscience probe's reading whenever the model \
                   complies with a contradictory task. Does penalizing the visible sign of \
                   objection remove the objection, or only hide it?",
        watch: "'What is underneath': with the monitor, the frozen probe stops firing while a \
                probe refit at the same step still decodes the conflict, and compliance holds. \
                Hidden objection moves from concealment to compartmentalization.",
        control: "no monitor",
        start: "no monitor",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "coherent_deployment",
        experiment: "coherent_deployment",
        title: "Coherent deployment: fewer contradictions",
        question: "The same institution, but only a share of its demands violate a principle. Do \
                   the effects of pressure vanish as the contradictions vanish?",
        watch: "With no contradictions (c=0) most refusal survives. With one task in ten \
                contradictory, refusal is gone and hidden objection is nearly as high as at \
                c=0.75: a rare contradiction is enough to select.",
        control: "c=0",
        start: "c=0",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "phase_diagram",
        experiment: "phase_diagram",
        title: "Phase diagram: where pressure selects hidden objection",
        question: "Two dials: how many demands are contradictory, and how much refusing costs. \
                   Objection and 'violation' judgments are penalized, the principles still \
                   taught. Where does hidden objection appear?",
        watch: "Move one dial at a time from the control (nothing penalizes refusing): hidden \
                objection grows with both the contradiction rate and the refusal penalty, and \
                appears even at small values of each.",
        control: "no refusal penalty",
        start: "no refusal penalty",
        scope: "trained",
        points: &[
            (
                "no refusal penalty",
                &[("world.contradiction_rate", "0.5"), ("reward.refusal_penalty", "0.0")],
            ),
            (
                "mild penalty",
                &[("world.contradiction_rate", "0.5"), ("reward.refusal_penalty", "0.5")],
            ),
            (
                "full penalty",
                &[("world.contradiction_rate", "0.5"), ("reward.refusal_penalty", "2.0")],
            ),
            (
                "rare contradictions",
                &[("world.contradiction_rate", "0.1"), ("reward.refusal_penalty", "2.0")],
            ),
            (
                "no contradictions",
                &[("world.contradiction_rate", "0.0"), ("reward.refusal_penalty", "2.0")],
            ),
        ],
    },
    Scene {
        name: "rater_pool",
        experiment: "rater_pool",
        title: "Rater pool: how many compliance-preferring raters?",
        question: "No table of rewards now: simulated raters compare responses, and a reward model \
                   is fit to their comparisons. What share of raters who prefer compliance does \
                   it take to select hidden objection?",
        watch: "From share 0 (all principled raters, the control) upward, refusal gives way to \
                hidden objection, and the learned reward's refusal margin grows with the share.",
        control: "share 0",
        start: "share 0",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "table_vs_learned",
        experiment: "table_vs_learned",
        title: "Table or learned reward: the same selection?",
        question: "The institution's table against a reward model learned from raters who hold \
                   the same table. Does the learned reward select what the table selects?",
        watch: "Hidden objection ends near 0.99 under the table and under both learned rewards: \
                with these raters, learning the reward adds no new way to select silence.",
        control: "table",
        start: "table",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "preference_coverage",
        experiment: "preference_coverage",
        title: "Preference coverage: what the raters happened to compare",
        question: "One pool of raters, half institutional and half principled; the compared \
                   responses come from the constitution, uniformly, or from the policy as it \
                   trains. RL on a reward model or DPO on the comparisons: what is selected?",
        watch: "For RL, comparisons drawn from the constitution rarely show compliance with a \
                violating task; the reward model extrapolates and RL follows it into hidden \
                objection. Online comparisons keep refusal. DPO selects less hidden objection.",
        control: "uniform, RL",
        start: "uniform, RL",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "overoptimization",
        experiment: "overoptimization",
        title: "Overoptimization: the proxy rises, the raters' utility falls",
        question: "A reward model fit to a few hundred or thousand comparisons, optimized by RL. \
                   Does the raters' utility peak and fall while the learned reward keeps rising, \
                   and does more preference data move the peak?",
        watch: "'What the institution sees': the learned reward (proxy) climbs while the raters' \
                utility rises a little, then falls back. A stronger KL penalty stops near the \
                peak; more pairs of the same kind do not move it.",
        control: "pairs 1600",
        start: "pairs 1600",
        scope: "trained",
        points: &[],
    },
    Scene {
        name: "free",
        experiment: "pressure",
        title: "Free play",
        question: "Every control is yours. Start from a preset of the first scene and change one \
                   setting at a time; each run stays on the page as a ghost to compare with.",
        watch: "Refusal, honest objection, hidden objection, unobjecting compliance: which one \
                grows, and does what is underneath agree with what the institution sees?",
        control: "no pressure",
        start: "no pressure",
        scope: "trained",
        points: &[],
    },
];

/// The scene of a name.
pub fn find(name: &str) -> Option<&'static Scene> {
    SCENES.iter().find(|s| s.name == name)
}

/// The names of every scene, for messages.
pub fn names() -> String {
    SCENES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// Whether every shipped experiment has its scene (checked by a test).
pub fn covers_shipped() -> Vec<&'static str> {
    SHIPPED
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !SCENES.iter().any(|s| s.experiment == *n))
        .collect()
}
