//! The routes a router source file declares, for authorisation tables that must name
//! every route (a new route without a row fails the table's test).

use std::collections::BTreeSet;

/// Every `(METHOD, path)` declared by `.route("…", method(…)…)` calls in `source`.
pub fn declared_routes(file: &str) -> BTreeSet<(String, String)> {
    let path = crate::workspace_root().join(file);
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // (`.fallback(…)` is allowed: the API's fallbacks only answer 404/405 for what no route
    // matches, so they open nothing.)
    for unsupported in [".nest(", ".nest_service(", ".route_service("] {
        assert!(
            !source.contains(unsupported),
            "{file} uses {unsupported}…): teach this test's route parser about it"
        );
    }
    let mut found = BTreeSet::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find(".route(") {
        let after = &rest[at + ".route(".len()..];
        let (mut depth, mut in_string, mut end) = (1usize, false, after.len());
        for (i, c) in after.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &after[..end];
        let literal = call
            .trim_start()
            .strip_prefix('"')
            .unwrap_or_else(|| panic!("{file}: a .route( call without a path literal: {call}"));
        let close = literal
            .find('"')
            .unwrap_or_else(|| panic!("{file}: unterminated path in {call}"));
        let route_path = &literal[..close];
        let handlers = &literal[close + 1..];
        let mut methods = 0;
        for method in [
            "get", "post", "put", "patch", "delete", "head", "options", "any",
        ] {
            let needle = format!("{method}(");
            for (i, _) in handlers.match_indices(&needle) {
                let before = handlers[..i].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                found.insert((method.to_uppercase(), route_path.to_owned()));
                methods += 1;
            }
        }
        assert!(methods > 0, "{file}: no method router in .route({call})");
        rest = &after[end..];
    }
    found
}
