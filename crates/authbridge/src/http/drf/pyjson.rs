//! The message CPython 3.11's `json.loads` gives for a malformed document, so that authbridge's
//! 400 body (`{"detail":"JSON parse error - <message>"}`) is the same as DRF's. Only called once
//! serde_json has rejected the document.

/// Returns `None` when CPython would accept the document (then serde_json rejected something
/// Python allows, e.g. a lone surrogate escape; the caller falls back to a generic message).
pub fn error_message(doc: &str) -> Option<String> {
    if doc.starts_with('\u{feff}') {
        return Some(
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)".into(),
        );
    }
    let chars: Vec<char> = doc.chars().collect();
    let p = Parser {
        s: &chars,
        doc: &chars,
    };
    let result = p.ws(0).and_then(|i| p.value(i)).and_then(|end| {
        let end = p.ws(end)?;
        if end != chars.len() {
            return Err(("Extra data", end));
        }
        Ok(end)
    });
    match result {
        Ok(_) => None,
        // DRF parses with `parse_constant` refusing NaN and the infinities (STRICT_JSON).
        Err((msg @ ("NaN" | "Infinity" | "-Infinity"), _)) => Some(format!(
            "Out of range float values are not JSON compliant: '{msg}'"
        )),
        Err((msg, pos)) => Some(p.format(msg, pos)),
    }
}

type Step = Result<usize, (&'static str, usize)>;

#[derive(Clone, Copy)]
enum Container {
    Array,
    Object,
}

struct Parser<'a> {
    s: &'a [char],
    doc: &'a [char],
}

impl Parser<'_> {
    fn format(&self, msg: &str, pos: usize) -> String {
        let before = &self.doc[..pos.min(self.doc.len())];
        let line = before.iter().filter(|c| **c == '\n').count() + 1;
        let col = match before.iter().rposition(|c| *c == '\n') {
            Some(nl) => pos - nl,
            None => pos + 1,
        };
        format!("{msg}: line {line} column {col} (char {pos})")
    }

    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn ws(&self, mut i: usize) -> Step {
        while matches!(self.at(i), Some(' ' | '\t' | '\n' | '\r')) {
            i += 1;
        }
        Ok(i)
    }

    /// One JSON value starting at `i`, containers included. Iterative: nesting is kept on an
    /// explicit stack (one byte per level), so no document can overflow the thread's stack.
    fn value(&self, mut i: usize) -> Step {
        let mut open: Vec<Container> = Vec::new();
        'value: loop {
            match self.at(i) {
                Some('{') => {
                    i = self.ws(i + 1)?;
                    if self.at(i) == Some('}') {
                        i += 1;
                    } else {
                        i = self.member_key(i)?;
                        open.push(Container::Object);
                        continue 'value;
                    }
                }
                Some('[') => {
                    i = self.ws(i + 1)?;
                    if self.at(i) == Some(']') {
                        i += 1;
                    } else {
                        open.push(Container::Array);
                        continue 'value;
                    }
                }
                _ => i = self.scalar(i)?,
            }
            // A value ended at `i`: close every container that ends here, or go on to the next
            // element of the innermost one.
            loop {
                let Some(&container) = open.last() else {
                    return Ok(i);
                };
                i = self.ws(i)?;
                match (container, self.at(i)) {
                    (Container::Array, Some(']')) | (Container::Object, Some('}')) => {
                        open.pop();
                        i += 1;
                    }
                    (Container::Array, Some(',')) => {
                        i = self.ws(i + 1)?;
                        continue 'value;
                    }
                    (Container::Object, Some(',')) => {
                        i = self.ws(i + 1)?;
                        i = self.member_key(i)?;
                        continue 'value;
                    }
                    _ => return Err(("Expecting ',' delimiter", i)),
                }
            }
        }
    }

    /// `"name" :` and the whitespace after it; returns where the member's value starts.
    fn member_key(&self, i: usize) -> Step {
        if self.at(i) != Some('"') {
            return Err(("Expecting property name enclosed in double quotes", i));
        }
        let i = self.ws(self.string(i)?)?;
        if self.at(i) != Some(':') {
            return Err(("Expecting ':' delimiter", i));
        }
        self.ws(i + 1)
    }

    fn scalar(&self, i: usize) -> Step {
        match self.at(i) {
            Some('"') => self.string(i),
            Some('n') if self.lit(i, "null") => Ok(i + 4),
            Some('t') if self.lit(i, "true") => Ok(i + 4),
            Some('f') if self.lit(i, "false") => Ok(i + 5),
            Some('N') if self.lit(i, "NaN") => Err(("NaN", i)),
            Some('I') if self.lit(i, "Infinity") => Err(("Infinity", i)),
            Some('-') if self.lit(i, "-Infinity") => Err(("-Infinity", i)),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(i),
            _ => Err(("Expecting value", i)),
        }
    }

    fn lit(&self, i: usize, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(k, c)| self.at(i + k) == Some(c))
    }

    fn number(&self, start: usize) -> Step {
        let mut i = start;
        if self.at(i) == Some('-') {
            i += 1;
        }
        match self.at(i) {
            Some('0') => i += 1,
            Some(c) if c.is_ascii_digit() => {
                while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
            _ => return Err(("Expecting value", start)),
        }
        if self.at(i) == Some('.') && self.at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
        }
        if matches!(self.at(i), Some('e' | 'E')) {
            let mut j = i + 1;
            if matches!(self.at(j), Some('+' | '-')) {
                j += 1;
            }
            if self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                while self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                i = j;
            }
        }
        Ok(i)
    }

    fn string(&self, start: usize) -> Step {
        let mut i = start + 1;
        loop {
            match self.at(i) {
                None => return Err(("Unterminated string starting at", start)),
                Some('"') => return Ok(i + 1),
                Some('\\') => match self.at(i + 1) {
                    None => return Err(("Unterminated string starting at", start)),
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => i += 2,
                    Some('u') => {
                        let ok =
                            (2..6).all(|k| self.at(i + k).is_some_and(|c| c.is_ascii_hexdigit()));
                        if !ok {
                            return Err(("Invalid \\uXXXX escape", i + 1));
                        }
                        i += 6;
                    }
                    Some(_) => return Err(("Invalid \\escape", i)),
                },
                Some(c) if (c as u32) < 0x20 => return Err(("Invalid control character at", i)),
                Some(_) => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::error_message;

    #[test]
    fn matches_cpython_messages() {
        // The first is recorded in the wire probe; the others are CPython 3.11's messages.
        let cases = [
            (
                "{not json",
                "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            ),
            ("", "Expecting value: line 1 column 1 (char 0)"),
            ("{\"a\": 1} x", "Extra data: line 1 column 10 (char 9)"),
            (
                "{\"a\" 1}",
                "Expecting ':' delimiter: line 1 column 6 (char 5)",
            ),
            (
                "{\"a\": 1 \"b\": 2}",
                "Expecting ',' delimiter: line 1 column 9 (char 8)",
            ),
            (
                "{\"a\": \"x",
                "Unterminated string starting at: line 1 column 7 (char 6)",
            ),
            ("{\n\"a\": }", "Expecting value: line 2 column 6 (char 7)"),
            (
                "{\"a\":1,}",
                "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
            ),
            ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
            ("{\"é\": x}", "Expecting value: line 1 column 7 (char 6)"),
            (
                "\u{feff}{}",
                "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
            ),
            (
                "{\"password\": NaN}",
                "Out of range float values are not JSON compliant: 'NaN'",
            ),
            (
                "[1, -Infinity]",
                "Out of range float values are not JSON compliant: '-Infinity'",
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(error_message(doc).as_deref(), Some(want), "{doc:?}");
        }
        assert_eq!(error_message("{\"a\": [1, 2.5e3, null, true]}"), None);
    }
}

#[cfg(test)]
mod depth_tests {
    use super::error_message;

    /// Run on a thread with a small stack: a parser that recurses per nesting level overflows it
    /// (and aborts the whole process) long before these depths.
    fn on_small_stack(doc: String) -> Option<String> {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || error_message(&doc))
            .expect("thread")
            .join()
            .expect("no stack overflow")
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let arrays = "[".repeat(50_000);
        assert_eq!(
            on_small_stack(arrays).as_deref(),
            Some("Expecting value: line 1 column 50001 (char 50000)")
        );
        let objects = "{\"a\":".repeat(100_000);
        assert_eq!(
            on_small_stack(objects).as_deref(),
            Some("Expecting value: line 1 column 500001 (char 500000)")
        );
        let closed = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(on_small_stack(closed), None);
        let mixed = format!("{}1{}x", "[{\"k\":".repeat(30_000), "}]".repeat(30_000));
        assert_eq!(
            on_small_stack(mixed).as_deref(),
            Some("Extra data: line 1 column 240002 (char 240001)")
        );
        let bad_delim = format!("{}1 2", "[".repeat(10_000));
        assert_eq!(
            on_small_stack(bad_delim).as_deref(),
            Some("Expecting ',' delimiter: line 1 column 10003 (char 10002)")
        );
    }
}
