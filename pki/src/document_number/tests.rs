//! Property tests of the canonicaliser: look-alikes are refused, visible foldings agree.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

const KINDS: [DocumentType; 3] = [DocumentType::Bir, DocumentType::Ti, DocumentType::Passport];

/// Characters a person may read as an ASCII digit or letter but that are not one.
fn look_alikes(c: char) -> Vec<char> {
    let mut out = Vec::new();
    if let Some(d) = c.to_digit(10) {
        for base in [
            0xFF10,  // fullwidth
            0x0660,  // Arabic-Indic
            0x06F0,  // Extended Arabic-Indic
            0x0966,  // Devanagari
            0x09E6,  // Bengali
            0x1D7CE, // mathematical bold
            0x1D7EC, // mathematical sans-serif bold
            0x2080,  // subscript
        ] {
            out.extend(char::from_u32(base + d));
        }
        out.extend(char::from_u32(if d == 0 { 0x24EA } else { 0x2460 + d - 1 })); // circled
        out.push(['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'][d as usize]); // superscript
    }
    if c.is_ascii_uppercase() {
        out.extend(char::from_u32(0xFF21 + u32::from(c) - u32::from('A'))); // fullwidth
        out.extend(char::from_u32(0x1D400 + u32::from(c) - u32::from('A'))); // math bold
    }
    let confusable: &[(char, &[char])] = &[
        ('A', &['А', 'Α']),
        ('B', &['В', 'Β']),
        ('C', &['С', 'Ϲ']),
        ('E', &['Е', 'Ε']),
        ('H', &['Н', 'Η']),
        ('K', &['К', 'Κ']),
        ('M', &['М', 'Μ']),
        ('O', &['О', 'Ο']),
        ('P', &['Р', 'Ρ']),
        ('T', &['Т', 'Τ']),
        ('X', &['Х', 'Χ']),
        ('Y', &['У', 'Υ']),
        ('0', &['О', 'Ο', 'ℴ']),
        ('1', &['l', 'I', 'ǀ']),
        ('(', &['（', '⁽', '❨']),
        (')', &['）', '⁾', '❩']),
    ];
    for (ascii, alikes) in confusable {
        if *ascii == c {
            out.extend_from_slice(alikes);
        }
    }
    out
}

/// Invisible or space-like characters that must never be dropped silently.
const INVISIBLE: [char; 10] = [
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00A0}', '\u{3000}', '\u{2009}',
    '\u{202E}', '\t',
];
const COMBINING: [char; 4] = ['\u{0301}', '\u{0338}', '\u{20E3}', '\u{0307}'];

fn base_number(kind: DocumentType, rng: &mut StdRng) -> String {
    let digits = |n: usize, rng: &mut StdRng| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    };
    match kind {
        DocumentType::Bir => format!("{}({})", digits(7, rng), digits(1, rng)),
        DocumentType::Ti => {
            let n = rng.random_range(6..=9);
            format!("{}({})", digits(n, rng), digits(1, rng))
        }
        DocumentType::Passport => {
            let n = rng.random_range(5..=15);
            (0..n)
                .map(|_| {
                    if rng.random_bool(0.4) {
                        char::from(b'A' + rng.random_range(0..26u8))
                    } else {
                        char::from(b'0' + rng.random_range(0..10u8))
                    }
                })
                .collect()
        }
    }
}

/// How a person reads an ASCII number: spaces and case do not matter, nor whether the check
/// digit is in parentheses. Written independently of the code under test.
fn as_read(kind: DocumentType, s: &str) -> String {
    s.chars()
        .filter(|c| *c != ' ')
        .filter(|c| kind == DocumentType::Passport || !matches!(c, '(' | ')'))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Visible foldings of a canonical number: spaces, lower case, parentheses dropped.
fn visible_variant(kind: DocumentType, canonical: &str, rng: &mut StdRng) -> String {
    let mut s: String = canonical
        .chars()
        .filter(|c| !(matches!(c, '(' | ')') && rng.random_bool(0.5)))
        .collect();
    if kind != DocumentType::Passport && s.contains('(') != s.contains(')') {
        s = canonical.to_owned(); // parentheses come as a pair
    }
    let mut out = String::new();
    for c in s.chars() {
        if rng.random_bool(0.15) {
            out.push(' ');
        }
        out.push(if rng.random_bool(0.3) {
            c.to_ascii_lowercase()
        } else {
            c
        });
    }
    out
}

#[test]
fn visible_foldings_give_the_canonical_number_and_key() {
    let mut rng = StdRng::seed_from_u64(9);
    for kind in KINDS {
        for _ in 0..2_000 {
            let canonical = base_number(kind, &mut rng);
            let reference = IdentityDocument::parse(kind, &canonical).expect("canonical parses");
            assert_eq!(reference.number, canonical, "canonical is a fixed point");
            let variant = visible_variant(kind, &canonical, &mut rng);
            let parsed = IdentityDocument::parse(kind, &variant)
                .unwrap_or_else(|e| panic!("{variant:?} refused: {e}"));
            assert_eq!(parsed.number, canonical, "{variant:?}");
            assert_eq!(parsed.registry_key(), reference.registry_key());
        }
    }
}

#[test]
fn every_look_alike_invisible_or_combining_character_is_refused() {
    let mut rng = StdRng::seed_from_u64(10);
    for kind in KINDS {
        for _ in 0..300 {
            let canonical = base_number(kind, &mut rng);
            let chars: Vec<char> = canonical.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                let mut candidates = look_alikes(*c);
                candidates.extend(INVISIBLE);
                // ASCII letters and digits are distinct characters of a passport number, as on
                // the document's machine-readable zone (OCR-B tells O from 0 and I from 1).
                candidates.retain(|a| !(a.is_ascii_alphanumeric() && kind.allows(*a)));
                for alike in candidates {
                    let mut replaced = chars.clone();
                    replaced[i] = alike;
                    let text: String = replaced.iter().collect();
                    assert!(
                        IdentityDocument::parse(kind, &text).is_err(),
                        "{kind:?} {text:?} accepted"
                    );
                    let mut inserted = chars.clone();
                    inserted.insert(i, alike);
                    let text: String = inserted.iter().collect();
                    assert!(
                        IdentityDocument::parse(kind, &text).is_err(),
                        "{kind:?} {text:?} accepted"
                    );
                }
                for mark in COMBINING {
                    let mut marked = chars.clone();
                    marked.insert(i + 1, mark);
                    let text: String = marked.iter().collect();
                    assert!(IdentityDocument::parse(kind, &text).is_err(), "{text:?}");
                }
            }
        }
    }
}

/// Random strings drawn from every pool: whatever is accepted is plain ASCII, and its key
/// equals the record's key exactly when a person reads the two as the same number.
#[test]
fn random_strings_are_refused_or_keyed_as_a_person_reads_them() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut pool: Vec<char> = "0123456789()ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz "
        .chars()
        .collect();
    for c in "0123456789ABCOPX()".chars() {
        pool.extend(look_alikes(c));
    }
    pool.extend(INVISIBLE);
    pool.extend(COMBINING);
    pool.extend(['-', '/', '.', 'ß', 'İ', 'K', 'Å']); // K = KELVIN SIGN, Å = ANGSTROM SIGN
    let mut accepted = 0;
    for kind in KINDS {
        let record =
            IdentityDocument::parse(kind, &base_number(kind, &mut StdRng::seed_from_u64(1)))
                .expect("record");
        for _ in 0..200_000 {
            // Mostly near the record's number, so that matches are exercised too.
            let mut s: Vec<char> = if rng.random_bool(0.7) {
                visible_variant(kind, &record.number, &mut rng)
                    .chars()
                    .collect()
            } else {
                Vec::new()
            };
            for _ in 0..rng.random_range(0..3) {
                let c = pool[rng.random_range(0..pool.len())];
                let at = rng.random_range(0..=s.len());
                if rng.random_bool(0.5) && at < s.len() {
                    s[at] = c;
                } else {
                    s.insert(at, c);
                }
            }
            let text: String = s.iter().collect();
            match IdentityDocument::parse(kind, &text) {
                Ok(doc) => {
                    accepted += 1;
                    assert!(
                        text.chars().all(|c| c == ' ' || kind.allows(c)),
                        "{kind:?} accepted {text:?}"
                    );
                    assert_eq!(
                        doc.registry_key() == record.registry_key(),
                        as_read(kind, &text) == as_read(kind, &record.number),
                        "{kind:?} {text:?} vs {:?}",
                        record.number
                    );
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }
    assert!(
        accepted > 10_000,
        "the generator exercises acceptance ({accepted})"
    );
}

#[test]
fn shapes_and_messages() {
    let bir = |s: &str| IdentityDocument::parse(DocumentType::Bir, s);
    assert_eq!(bir("1234567(8)").expect("ok").number, "1234567(8)");
    assert_eq!(bir(" 1234567 (8) ").expect("ok").number, "1234567(8)");
    assert_eq!(bir("12345678").expect("ok").number, "1234567(8)");
    for bad in [
        "",
        "   ",
        "123456(8)",
        "1234567()",
        "1234567(8",
        "(8)",
        "1234567(8))",
        "12(34567)8",
    ] {
        assert!(bir(bad).is_err(), "{bad:?}");
    }
    let err = bir("521529９(8)").expect_err("fullwidth");
    assert!(err.to_string().contains("U+FF19"), "{err}");
    assert_eq!(
        IdentityDocument::parse(DocumentType::Passport, "cb 123456")
            .expect("ok")
            .number,
        "CB123456"
    );
    assert!(IdentityDocument::parse(DocumentType::Passport, "CB12").is_err());
    assert!(IdentityDocument::parse(DocumentType::Passport, &"9".repeat(200)).is_err());
    assert_eq!(
        IdentityDocument::parse(DocumentType::Ti, "91234567")
            .expect("ok")
            .number,
        "9123456(7)"
    );
}
