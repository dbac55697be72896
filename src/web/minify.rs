//! Makes our own JavaScript and CSS smaller before they are served: comments, indentation and
//! the spaces that punctuation makes useless go. Not a general minifier: it relies on how our
//! files are written (no template literals, no multi-line strings or comments in the scripts, a
//! regular expression never right after `return`), which the browser tests exercise.

/// The script without comment lines, indentation, or spaces beside punctuation outside strings
/// and regular expressions. Lines stay lines, so semicolon insertion works as in the source.
pub fn js(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        js_line(line, &mut out);
        out.push('\n');
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || c == '\\'
}

/// After these, a `/` starts a regular expression; after anything else it divides.
fn regex_may_follow(prev: Option<char>) -> bool {
    prev.is_none_or(|c| "(,=:[!&|?{};+-*%<>~^".contains(c))
}

fn js_line(line: &str, out: &mut String) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => i = copy_until(&chars, i, c, out),
            '/' if chars.get(i + 1) == Some(&'/') => return,
            '/' if regex_may_follow(out.trim_end().chars().last()) => {
                i = copy_regex(&chars, i, out)
            }
            ' ' | '\t' => {
                let prev = out.chars().last();
                let next = chars[i..].iter().copied().find(|c| *c != ' ' && *c != '\t');
                let keep = match (prev, next) {
                    (Some(p), Some(n)) => {
                        (is_word(p) && is_word(n)) || ("+-".contains(p) && "+-".contains(n))
                    }
                    _ => false,
                };
                if keep && prev != Some(' ') {
                    out.push(' ');
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Copies a string literal opened at `start` through its closing `quote`; answers the index after.
fn copy_until(chars: &[char], start: usize, quote: char, out: &mut String) -> usize {
    out.push(quote);
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        out.push(c);
        i += 1;
        if c == '\\' {
            if let Some(&escaped) = chars.get(i) {
                out.push(escaped);
                i += 1;
            }
        } else if c == quote {
            break;
        }
    }
    i
}

/// Copies a regular expression literal (its flags follow as ordinary letters).
fn copy_regex(chars: &[char], start: usize, out: &mut String) -> usize {
    out.push('/');
    let mut i = start + 1;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        out.push(c);
        i += 1;
        match c {
            '\\' => {
                if let Some(&escaped) = chars.get(i) {
                    out.push(escaped);
                    i += 1;
                }
            }
            '[' => in_class = true,
            ']' => in_class = false,
            '/' if !in_class => break,
            _ => {}
        }
    }
    i
}

/// The stylesheet without comments, indentation, and spaces around `{`, `}`, `;` and after `,`
/// and the `:` of declarations.
pub fn css(source: &str) -> String {
    let mut text = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::with_capacity(joined.len());
    let mut depth = 0usize;
    let chars: Vec<char> = joined.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev = out.chars().last();
        let next = chars.get(i + 1).copied();
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let space = c == ' ' || c == '\n';
        let useless = space
            && (prev.is_some_and(|p| "{};,>\n".contains(p) || (p == ':' && depth > 0))
                || next.is_some_and(|n| "{};>\n".contains(n)));
        if !useless {
            out.push(if c == '\n' { ' ' } else { c });
        }
    }
    out.replace(" }", "}").replace("; ", ";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_beside_punctuation_go_but_not_inside_strings_or_regexes() {
        let src = "  // a comment\n  var a = b + c;\n  if (x === 'a  b') return / 2;\n";
        assert_eq!(js(src), "var a=b+c;\nif(x==='a  b')return/2;\n");
        let re = "var ok = !/^https?:\\/\\//i.test(p) && s.split(/ +/);\n";
        assert_eq!(
            js(re),
            "var ok=!/^https?:\\/\\//i.test(p)&&s.split(/ +/);\n"
        );
        assert_eq!(js("var x = a / b / c;\n"), "var x=a/b/c;\n");
        assert_eq!(js("f(a + +b, c - -d);\n"), "f(a+ +b,c- -d);\n");
        assert_eq!(
            js("var s = \"it's \\\"q\\\" // no\";\n"),
            "var s=\"it's \\\"q\\\" // no\";\n"
        );
        assert_eq!(js("x = 1; // trailing\n"), "x=1;\n");
        assert_eq!(js("var r = /[/]x/g;\n"), "var r=/[/]x/g;\n");
    }

    #[test]
    fn css_keeps_selectors_and_values_apart() {
        let src = "/* a */\n.a :hover, .b > .c {\n  margin: 0 auto;\n  font: 14px/1.4 a, b;\n}\n";
        assert_eq!(
            css(src),
            ".a :hover,.b>.c{margin:0 auto;font:14px/1.4 a,b;}"
        );
        assert_eq!(
            css(".x:not([hidden]) + .y { a: b }"),
            ".x:not([hidden]) + .y{a:b}"
        );
    }
}
