//! Table tests of how deserialisation errors become a 422 naming the field.

use super::field_and_message;

#[test]
fn fields_are_named_from_path_and_message() {
    // (path, serde message, expected field, expected message start)
    let cases = [
        (
            ".",
            "missing field `name` at line 1 column 2",
            "name",
            "missing field 'name'",
        ),
        (
            "definition",
            "missing field `weights`",
            "definition.weights",
            "missing field",
        ),
        (
            ".",
            "unknown field `foo`, expected one of `a`, `b` at line 1 column 9",
            "foo",
            "unknown field 'foo'",
        ),
        (
            "foo",
            "unknown field `foo`, expected one of `a`, `b`",
            "foo",
            "unknown field 'foo'",
        ),
        (
            "definition.extra",
            "unknown field `extra`, expected `name`",
            "definition.extra",
            "unknown field",
        ),
        (
            "seed_krw",
            "must be a decimal number, got \"x\" at line 1 column 20",
            "seed_krw",
            "must be a decimal number",
        ),
        (
            "mode",
            "mode: unknown value \"X\"; expected one of PAPER, LIVE",
            "mode",
            "unknown value",
        ),
        (
            "definition",
            "thresholds.exit: must be below the entry threshold 70, got 80",
            "definition.thresholds.exit",
            "must be below",
        ),
        (
            "definition.risk",
            "risk_per_trade: must be within",
            "definition.risk.risk_per_trade",
            "must be within",
        ),
        (
            "strategy_id",
            "invalid type: string \"a\", expected i64",
            "strategy_id",
            "invalid type",
        ),
        (
            ".",
            "invalid type: null, expected struct Create",
            "body",
            "invalid type",
        ),
    ];
    for (path, message, field, starts) in cases {
        let got = field_and_message(path, message);
        assert_eq!(got.field, field, "{path} / {message}");
        assert!(
            got.message.starts_with(starts),
            "{path} / {message}: {:?}",
            got.message
        );
        assert!(!got.message.contains(" at line "), "{:?}", got.message);
    }
}
