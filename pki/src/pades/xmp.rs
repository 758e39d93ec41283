//! A coarse reading of XMP packets, enough to tell whether a later revision's rewrite of the
//! metadata (pyHanko re-serialises the whole packet on every save) changed anything but the
//! writer's own modification date and producer.

use std::collections::BTreeSet;

/// Properties a writer refreshes on every save (local names).
const WRITER_PROPERTIES: [&str; 4] = ["ModifyDate", "MetadataDate", "Producer", "xmptk"];
/// Attributes that only shape the RDF serialisation.
const SYNTAX_ATTRIBUTES: [&str; 2] = ["about", "parseType"];

/// The packet's `(property local name, value)` pairs, whatever the RDF form (element text,
/// attribute, or `rdf:resource`), without namespace declarations and writer properties.
pub(super) fn properties(xml: &[u8]) -> BTreeSet<(String, String)> {
    let text = String::from_utf8_lossy(xml);
    let mut out = BTreeSet::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text.as_ref();
    while let Some(open) = rest.find('<') {
        let between = rest[..open].trim();
        if !between.is_empty()
            && let Some(top) = stack.last()
        {
            out.insert((top.clone(), unescape(between)));
        }
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(_end) = tag.strip_prefix('/') {
            stack.pop();
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        let element = local(name).to_owned();
        for (attr, value) in attributes(attrs) {
            if attr.starts_with("xmlns") || SYNTAX_ATTRIBUTES.contains(&local(attr)) {
                continue;
            }
            let key = if local(attr) == "resource" {
                element.clone()
            } else {
                local(attr).to_owned()
            };
            out.insert((key, unescape(value)));
        }
        if !self_closing {
            stack.push(element);
        }
    }
    out.retain(|(k, _)| !WRITER_PROPERTIES.contains(&k.as_str()));
    out
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// `name="value"` or `name='value'` pairs.
fn attributes(mut s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    while let Some(eq) = s.find('=') {
        let name = s[..eq].trim();
        let after = s[eq + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(end) = after[1..].find(quote) else {
            break;
        };
        out.push((name, &after[1..1 + end]));
        s = &after[end + 2..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::properties;

    #[test]
    fn element_and_attribute_forms_are_the_same_properties() {
        let elements = br#"<x:xmpmeta x:xmptk="a"><rdf:Description rdf:about=""><xmp:CreatorTool>DSI</xmp:CreatorTool><xmp:ModifyDate>2026</xmp:ModifyDate><s:ns>http://x/</s:ns></rdf:Description></x:xmpmeta>"#;
        let attrs = br#"<x:xmpmeta x:xmptk="b"><rdf:Description xmlns:xmp="u" xmp:CreatorTool="DSI" xmp:ModifyDate="2027" pdf:Producer="p"><t:ns rdf:resource="http://x/"/></rdf:Description></x:xmpmeta>"#;
        assert_eq!(properties(elements), properties(attrs));
    }

    #[test]
    fn a_changed_title_is_a_different_packet() {
        let a = br#"<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Certificate</rdf:li></rdf:Alt></dc:title>"#;
        let b = br#"<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Forged</rdf:li></rdf:Alt></dc:title>"#;
        assert_ne!(properties(a), properties(b));
    }
}
