//! The reason a trader is recreated, named from its old and new config hash.

use super::recreate_reason;

#[test]
fn recreate_reason_names_what_changed() {
    let cases = [
        (
            "s5.v1.PAPER.c0.m0",
            "s5.v1.PAPER.c0.m7",
            "AI MODE model version 7 is deployed for it",
        ),
        (
            "s5.v1.PAPER.c0.m7",
            "s5.v1.PAPER.c0.m9",
            "AI MODE model version 7 → 9",
        ),
        (
            "s5.v1.PAPER.c0.m9",
            "s5.v1.PAPER.c0.m0",
            "AI MODE model version 9 is no longer deployed for it; back to the built-in AI MODE numbers",
        ),
        (
            "s5.v1.PAPER.c0",
            "s5.v1.PAPER.c0.m0",
            "it now records its AI MODE model (the built-in numbers)",
        ),
        (
            "s5.v1.PAPER.c0",
            "s5.v1.PAPER.c0.m3",
            "AI MODE model version 3 is deployed for it",
        ),
        ("s2.v1.PAPER.c0", "s2.v2.PAPER.c0", "strategy version 1 → 2"),
        ("s2.v1.PAPER.c4", "s2.v1.LIVE.c4", "mode PAPER → LIVE"),
        (
            "s5.v2.LIVE.c4.m3",
            "s5.v3.PAPER.c4.m0",
            "AI MODE model version 3 is no longer deployed for it; back to the built-in AI MODE numbers; \
             strategy version 2 → 3; mode LIVE → PAPER",
        ),
        ("s2.v1.PAPER.c0", "s2.v1.PAPER.c5", "credential 0 → 5"),
        (
            "s2.v1.PAPER.c0",
            "s2.v1.PAPER.c0",
            "its configuration changed",
        ),
    ];
    for (old, new, want) in cases {
        assert_eq!(recreate_reason(old, new), want, "{old} → {new}");
    }
}
