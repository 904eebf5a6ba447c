//! Shell word splitting for a pasted command line, the way a POSIX shell splits a simple command:
//! blanks separate words; single quotes keep everything literally; double quotes keep everything
//! but `\` before `"`, `\`, `$`, `` ` `` and a newline; a backslash outside quotes escapes the next
//! character; backslash-newline joins lines. Nothing is expanded (`$VAR` stays as written).
//!
//! The command ends at the first unquoted control operator (`|`, `||`, `&&`, `;`, `&`, or a
//! redirection such as `>`, `>>`, `2>`, `<`): what follows is not part of the AWS command.

use super::AwsCliError;

/// The words of the first simple command in `line`.
pub fn split_words(line: &str) -> Result<Vec<String>, AwsCliError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    // True once the current word has begun (so `''` yields an empty word).
    let mut started = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if started {
                    words.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            '\'' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(AwsCliError::UnterminatedQuote("single")),
                    }
                }
            }
            '"' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('\n') => {}
                            Some(ch @ ('"' | '\\' | '$' | '`')) => cur.push(ch),
                            Some(ch) => {
                                cur.push('\\');
                                cur.push(ch);
                            }
                            None => return Err(AwsCliError::UnterminatedQuote("double")),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err(AwsCliError::UnterminatedQuote("double")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some(ch) => {
                    started = true;
                    cur.push(ch);
                }
                None => return Err(AwsCliError::TrailingBackslash),
            },
            '|' | ';' | '&' | '<' | '>' => {
                // A redirection like `2>` starts with its file descriptor digits.
                if (c == '>' || c == '<') && started && cur.bytes().all(|b| b.is_ascii_digit()) {
                    cur.clear();
                    started = false;
                }
                break;
            }
            other => {
                started = true;
                cur.push(other);
            }
        }
    }
    if started {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        split_words(s).expect("splits")
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            w(r#"aws s3 cp "my file.txt" 's3://b/a b.txt' --acl\ x"#),
            vec![
                "aws",
                "s3",
                "cp",
                "my file.txt",
                "s3://b/a b.txt",
                "--acl x"
            ]
        );
        assert_eq!(w(r#"a "x\"y\\z\n""#), vec!["a", "x\"y\\z\\n"]);
        assert_eq!(w("a '' b"), vec!["a", "", "b"]);
        assert_eq!(w("a 'it'\"'\"'s'"), vec!["a", "it's"]);
    }

    #[test]
    fn line_continuations_join() {
        assert_eq!(
            w("aws s3 cp \\\n  s3://b/k \\\r\n ."),
            vec!["aws", "s3", "cp", "s3://b/k", "."]
        );
    }

    #[test]
    fn the_command_ends_at_an_operator() {
        assert_eq!(
            w("aws s3 ls s3://b | head"),
            vec!["aws", "s3", "ls", "s3://b"]
        );
        assert_eq!(
            w("aws s3 ls s3://b 2>&1"),
            vec!["aws", "s3", "ls", "s3://b"]
        );
        assert_eq!(
            w("aws s3 ls s3://b && echo ok"),
            vec!["aws", "s3", "ls", "s3://b"]
        );
        assert_eq!(
            w("aws s3 ls 's3://b|c'"),
            vec!["aws", "s3", "ls", "s3://b|c"]
        );
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(
            split_words("aws s3 cp 's3://b"),
            Err(AwsCliError::UnterminatedQuote("single"))
        );
        assert_eq!(
            split_words("aws \"s3"),
            Err(AwsCliError::UnterminatedQuote("double"))
        );
        assert_eq!(split_words("aws \\"), Err(AwsCliError::TrailingBackslash));
    }
}
