//! Wildcard patterns: tokenising `*` / `?` wildcards and `${...}` policy variables at parse time,
//! and matching them against request values at evaluation time.
//!
//! Matching is the classic greedy two-pointer algorithm with backtracking to the last `*`: it runs
//! in O(pattern × text) time, never recurses, and allocates nothing. Policy variables are resolved
//! on the fly from the [`ConditionContext`] and their values are matched literally (a `*` inside a
//! user name is not a wildcard). A variable that cannot be resolved (key absent or multi-valued,
//! and no default) makes the whole pattern fail to match.
//!
//! ARN matching ([`Pattern::matches_arn`]) splits both sides on `:` into at most six parts; the
//! first five (`arn`, partition, service, region, account) are matched one by one, so wildcards
//! never cross a `:` there, and the sixth (the resource part) is matched as a whole, where `*`
//! crosses `/` and `:`.

use super::ast::{ActionPattern, ConditionContext, ContextValue, Pattern, Shape, Token};

/// Longest user text quoted back in an error message.
const MAX_QUOTE: usize = 80;

/// Quotes user text for an error message: wrapped in backticks and truncated on a char boundary.
pub(crate) fn quote(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTE {
        format!("`{text}`")
    } else {
        let cut: String = text.chars().take(MAX_QUOTE).collect();
        format!("`{cut}…`")
    }
}

impl ActionPattern {
    /// Compiles an action pattern such as `s3:Get*` (matching is case-insensitive).
    pub fn new(original: &str) -> ActionPattern {
        let lower = original.to_lowercase();
        let shape = match lower.find(['*', '?']) {
            None => Shape::Exact,
            Some(i) if i + 1 == lower.len() && lower.ends_with('*') => {
                Shape::PrefixStar { arn_safe: true }
            }
            Some(_) => Shape::General,
        };
        ActionPattern {
            original: original.to_string(),
            lower,
            shape,
        }
    }

    /// Whole-name match against a lower-case action name.
    pub(crate) fn matches_lower(&self, action_lower: &str) -> bool {
        match self.shape {
            Shape::Exact => self.lower == action_lower,
            Shape::PrefixStar { .. } => action_lower
                .as_bytes()
                .starts_with(&self.lower.as_bytes()[..self.lower.len() - 1]),
            Shape::General => wildcard_match(&self.lower, action_lower),
        }
    }

    /// True when the pattern contains `*` or `?`.
    pub fn has_wildcard(&self) -> bool {
        self.lower.contains(['*', '?'])
    }
}

/// Whole-string match of `text` against `pattern` where `*` matches any run of characters and
/// `?` exactly one character; every other character is literal. Allocation-free, O(n·m).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pat = pattern.as_bytes();
    let (mut p, mut t) = (0usize, 0usize);
    // (pattern index just after the last `*`, text index that `*` currently stops at)
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                b'?' => {
                    if let Some(c) = text.get(t..).and_then(|r| r.chars().next()) {
                        t += c.len_utf8();
                        p += 1;
                        continue;
                    }
                }
                _ => {
                    // Literal run up to the next wildcard, compared as a whole.
                    let end = pattern[p..]
                        .find(['*', '?'])
                        .map_or(pattern.len(), |i| p + i);
                    let lit = &pattern[p..end];
                    if text.get(t..).is_some_and(|r| r.starts_with(lit)) {
                        t += lit.len();
                        p = end;
                        continue;
                    }
                }
            }
        } else if t == text.len() {
            return true;
        }
        match star {
            Some((sp, st)) => {
                let Some(c) = text.get(st..).and_then(|r| r.chars().next()) else {
                    return false;
                };
                let nt = st + c.len_utf8();
                star = Some((sp, nt));
                p = sp;
                t = nt;
            }
            None => return false,
        }
    }
}

impl Pattern {
    /// Tokenises `text`. `wildcards` enables `*` / `?`; `variables` enables `${...}` policy
    /// variables (2012-10-17 policies only; otherwise `${...}` is literal text).
    ///
    /// Errors (as a lower-case message) on a malformed variable such as `${` without `}`.
    pub fn new(text: &str, wildcards: bool, variables: bool) -> Result<Pattern, String> {
        let tokens = tokenize(text, wildcards, variables)?;
        Ok(Pattern {
            original: text.to_string(),
            shape: shape_of(&tokens),
            tokens,
        })
    }

    /// The literal text every match must start with (the first token, when it is literal).
    fn literal_prefix(&self) -> &str {
        match self.tokens.first() {
            Some(Token::Literal(s)) => s,
            _ => "",
        }
    }

    /// A pattern matching exactly `text` (no wildcards, no variables).
    pub fn literal(text: &str) -> Pattern {
        let tokens = if text.is_empty() {
            Vec::new()
        } else {
            vec![Token::Literal(text.to_string())]
        };
        Pattern {
            original: text.to_string(),
            shape: shape_of(&tokens),
            tokens,
        }
    }

    /// True when the pattern contains an active `*` or `?` wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.tokens
            .iter()
            .any(|t| matches!(t, Token::AnyRun | Token::AnyOne))
    }

    /// True when the pattern contains a policy variable.
    pub fn has_variable(&self) -> bool {
        self.tokens
            .iter()
            .any(|t| matches!(t, Token::Variable { .. }))
    }

    /// True when the pattern is the single wildcard `*`.
    pub fn is_any(&self) -> bool {
        matches!(self.tokens.as_slice(), [Token::AnyRun])
    }

    /// The fixed text of a pattern without wildcards or variables (`None` otherwise).
    pub fn as_literal(&self) -> Option<&str> {
        match self.tokens.as_slice() {
            [] => Some(""),
            [Token::Literal(s)] => Some(s),
            _ => None,
        }
    }

    /// The common shapes are decided here, inline at the call site; the rest in
    /// [`Pattern::matches_general`].
    #[inline]
    pub(crate) fn matches_impl(
        &self,
        value: &str,
        ctx: &dyn ConditionContext,
        fold_ascii_case: bool,
    ) -> bool {
        if !fold_ascii_case {
            match (self.shape, self.tokens.as_slice()) {
                (Shape::Exact, []) => return value.is_empty(),
                (Shape::Exact, [Token::Literal(s)]) => return s == value,
                (Shape::PrefixStar { .. }, [Token::Literal(s), Token::AnyRun]) => {
                    return value.starts_with(s.as_str())
                }
                _ => {}
            }
        }
        self.matches_general(value, ctx, fold_ascii_case)
    }

    #[inline(never)]
    fn matches_general(
        &self,
        value: &str,
        ctx: &dyn ConditionContext,
        fold_ascii_case: bool,
    ) -> bool {
        if !fold_ascii_case && !value.starts_with(self.literal_prefix()) {
            return false;
        }
        let tokens = &self.tokens;
        glob(
            tokens.len(),
            |i| tokens.get(i).map_or(Piece::Lit(""), piece),
            value,
            ctx,
            fold_ascii_case,
        )
    }

    /// The common shapes (`*`, an exact ARN, a literal ARN prefix and `*`) are decided here,
    /// inline at the call site; the rest segment by segment in [`Pattern::matches_arn_general`].
    #[inline]
    pub(crate) fn matches_arn_impl(&self, arn: &str, ctx: &dyn ConditionContext) -> bool {
        match (self.shape, self.tokens.as_slice()) {
            (_, [Token::AnyRun]) => true,
            (Shape::Exact, [Token::Literal(s)]) => s == arn,
            (Shape::PrefixStar { arn_safe: true }, [Token::Literal(s), Token::AnyRun]) => {
                arn.starts_with(s.as_str())
            }
            _ => self.matches_arn_general(arn, ctx),
        }
    }

    #[inline(never)]
    fn matches_arn_general(&self, arn: &str, ctx: &dyn ConditionContext) -> bool {
        // Segments align from the start, so the literal prefix must match literally.
        if !arn.starts_with(self.literal_prefix()) {
            return false;
        }
        // Colon positions in the pattern (only literal text can hold a `:`): (token, byte).
        let mut bounds = [(0usize, 0usize); 5];
        let mut nb = 0usize;
        'outer: for (ti, tok) in self.tokens.iter().enumerate() {
            if let Token::Literal(s) = tok {
                for (bi, b) in s.bytes().enumerate() {
                    if b == b':' {
                        if nb == bounds.len() {
                            break 'outer;
                        }
                        bounds[nb] = (ti, bi);
                        nb += 1;
                    }
                }
            }
        }
        let text_parts = arn.bytes().filter(|&b| b == b':').count().min(5) + 1;
        if text_parts != nb + 1 {
            return false;
        }
        let mut rest = arn;
        let mut start = (0usize, 0usize);
        let colons = bounds.get(..nb).unwrap_or(&[]).iter().copied().map(Some);
        for bound in colons.chain(std::iter::once(None)) {
            let (text_part, next_rest, end) = match bound {
                Some(b) => match rest.split_once(':') {
                    Some((a, r)) => (a, r, b),
                    None => return false,
                },
                None => (rest, "", (self.tokens.len(), 0)),
            };
            if !self.match_view(start, end, text_part, ctx) {
                return false;
            }
            start = (end.0, end.1 + 1);
            rest = next_rest;
        }
        true
    }

    /// Matches the sub-pattern from `start` (token, byte offset into that literal) to `end`
    /// (token, byte offset, exclusive; `(len, 0)` for the end of the pattern).
    fn match_view(
        &self,
        start: (usize, usize),
        end: (usize, usize),
        text: &str,
        ctx: &dyn ConditionContext,
    ) -> bool {
        let tokens = &self.tokens;
        let last = (end.0 + 1).min(tokens.len());
        let count = last.saturating_sub(start.0);
        glob(
            count,
            |k| {
                let t = start.0 + k;
                match tokens.get(t) {
                    Some(Token::Literal(s)) => {
                        let from = if t == start.0 { start.1 } else { 0 };
                        let to = if t == end.0 { end.1 } else { s.len() };
                        Piece::Lit(s.get(from..to).unwrap_or(""))
                    }
                    Some(other) => piece(other),
                    None => Piece::Lit(""),
                }
            },
            text,
            ctx,
            false,
        )
    }
}

/// The shape of a token list (see [`Shape`]).
fn shape_of(tokens: &[Token]) -> Shape {
    match tokens {
        [] | [Token::Literal(_)] => Shape::Exact,
        [Token::Literal(s), Token::AnyRun] => Shape::PrefixStar {
            arn_safe: s.bytes().filter(|&b| b == b':').count() >= 5,
        },
        _ => Shape::General,
    }
}

/// One matching unit, borrowed from a token (literals possibly clipped).
#[derive(Clone, Copy)]
enum Piece<'a> {
    Lit(&'a str),
    Star,
    One,
    Var(&'a str, Option<&'a str>),
}

fn piece(tok: &Token) -> Piece<'_> {
    match tok {
        Token::Literal(s) => Piece::Lit(s),
        Token::AnyRun => Piece::Star,
        Token::AnyOne => Piece::One,
        Token::Variable { key_lower, default } => Piece::Var(key_lower, default.as_deref()),
    }
}

/// The single value of a policy variable, or its default; `None` when unresolvable.
pub(crate) fn resolve<'c>(
    ctx: &'c dyn ConditionContext,
    key_lower: &str,
    default: Option<&'c str>,
) -> Option<&'c str> {
    match ctx.value(key_lower) {
        Some(ContextValue::One(s)) => Some(s),
        Some(ContextValue::Many([one])) => Some(one.as_str()),
        _ => default,
    }
}

fn starts_with_at(text: &str, at: usize, lit: &str, fold: bool) -> bool {
    let Some(rest) = text.as_bytes().get(at..) else {
        return false;
    };
    let Some(head) = rest.get(..lit.len()) else {
        return false;
    };
    if fold {
        head.eq_ignore_ascii_case(lit.as_bytes())
    } else {
        head == lit.as_bytes()
    }
}

/// The matcher shared by every pattern use: `count` pieces fetched through `get`.
fn glob<'p, G>(count: usize, get: G, text: &str, ctx: &dyn ConditionContext, fold: bool) -> bool
where
    G: Fn(usize) -> Piece<'p>,
{
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < count {
            match get(p) {
                Piece::Star => {
                    star = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                Piece::One => {
                    if let Some(c) = text.get(t..).and_then(|r| r.chars().next()) {
                        t += c.len_utf8();
                        p += 1;
                        continue;
                    }
                }
                Piece::Lit(s) => {
                    if starts_with_at(text, t, s, fold) {
                        t += s.len();
                        p += 1;
                        continue;
                    }
                }
                Piece::Var(key, default) => {
                    let Some(v) = resolve(ctx, key, default) else {
                        return false;
                    };
                    if starts_with_at(text, t, v, fold) {
                        t += v.len();
                        p += 1;
                        continue;
                    }
                }
            }
        } else if t == text.len() {
            return true;
        }
        match star {
            Some((sp, st)) => {
                let Some(c) = text.get(st..).and_then(|r| r.chars().next()) else {
                    return false;
                };
                let nt = st + c.len_utf8();
                star = Some((sp, nt));
                p = sp;
                t = nt;
            }
            None => return false,
        }
    }
}

/// Splits `text` into tokens; adjacent literal text is merged into one `Literal`.
fn tokenize(text: &str, wildcards: bool, variables: bool) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, tokens: &mut Vec<Token>| {
        if !lit.is_empty() {
            tokens.push(Token::Literal(std::mem::take(lit)));
        }
    };
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '*' | '?' if wildcards => {
                flush(&mut lit, &mut tokens);
                tokens.push(if c == '*' {
                    Token::AnyRun
                } else {
                    Token::AnyOne
                });
                rest = &rest[1..];
            }
            '$' if variables && rest.starts_with("${") => {
                let (var, after) = parse_variable(rest)?;
                match var {
                    Var::Literal(ch) => lit.push(ch),
                    Var::Key { key_lower, default } => {
                        flush(&mut lit, &mut tokens);
                        tokens.push(Token::Variable { key_lower, default });
                    }
                }
                rest = after;
            }
            _ => {
                lit.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    flush(&mut lit, &mut tokens);
    Ok(tokens)
}

enum Var {
    Literal(char),
    Key {
        key_lower: String,
        default: Option<String>,
    },
}

/// Parses `${...}` at the start of `s`; returns the variable and the text after the `}`.
fn parse_variable(s: &str) -> Result<(Var, &str), String> {
    let body = s.get(2..).unwrap_or("");
    for (special, ch) in [("*}", '*'), ("?}", '?'), ("$}", '$')] {
        if let Some(after) = body.strip_prefix(special) {
            return Ok((Var::Literal(ch), after));
        }
    }
    let shown = |upto: usize| quote(s.get(..upto).unwrap_or(s));
    let key_end = body
        .find([',', '}'])
        .ok_or_else(|| format!("unterminated policy variable {} (missing `}}`)", quote(s)))?;
    let key = body[..key_end].trim();
    let key_ok = !key.is_empty()
        && key
            .chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '$' | '{' | '}' | '\'' | ',' | '"'));
    let mut after = &body[key_end..];
    let mut default = None;
    if let Some(d) = after.strip_prefix(',') {
        let d = d.trim_start();
        let Some(d) = d.strip_prefix('\'') else {
            return Err(format!(
                "policy variable {}: the default value must be in single quotes, as in `${{key, 'default'}}`",
                quote(s)
            ));
        };
        let Some(close) = d.find('\'') else {
            return Err(format!(
                "policy variable {}: unterminated default value",
                quote(s)
            ));
        };
        default = Some(d[..close].to_string());
        after = d[close + 1..].trim_start();
    }
    let Some(after) = after.strip_prefix('}') else {
        return Err(format!(
            "unterminated policy variable {} (missing `}}`)",
            quote(s)
        ));
    };
    let consumed = s.len() - after.len();
    if !key_ok {
        return Err(format!("invalid policy variable {}", shown(consumed)));
    }
    Ok((
        Var::Key {
            key_lower: key.to_ascii_lowercase(),
            default,
        },
        after,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ast::MapContext;

    fn pat(s: &str) -> Pattern {
        Pattern::new(s, true, true).unwrap()
    }

    #[test]
    fn wildcard_basics() {
        let c = MapContext::default();
        assert!(pat("*").matches_impl("", &c, false));
        assert!(pat("*").matches_impl("anything/at:all", &c, false));
        assert!(pat("a*b").matches_impl("ab", &c, false));
        assert!(pat("a*b").matches_impl("axxxb", &c, false));
        assert!(!pat("a*b").matches_impl("axxxbc", &c, false));
        assert!(pat("a?c").matches_impl("abc", &c, false));
        assert!(pat("a?c").matches_impl("aéc", &c, false));
        assert!(!pat("a?c").matches_impl("ac", &c, false));
        assert!(pat("*a*a*a*b").matches_impl("aaaaaaaaaaab", &c, false));
        assert!(!pat("*a*a*a*a*a*a*a*b").matches_impl(&"a".repeat(2000), &c, false));
        assert!(pat("").matches_impl("", &c, false));
        assert!(!pat("").matches_impl("x", &c, false));
        assert!(!pat("abc").matches_impl("ABC", &c, false));
        assert!(pat("abc").matches_impl("ABC", &c, true));
    }

    #[test]
    fn wildcards_disabled_are_literal() {
        let c = MapContext::default();
        let p = Pattern::new("a*b?", false, true).unwrap();
        assert!(p.matches_impl("a*b?", &c, false));
        assert!(!p.matches_impl("axxbc", &c, false));
        assert!(!p.has_wildcard());
        assert_eq!(p.as_literal(), Some("a*b?"));
    }

    #[test]
    fn action_wildcards() {
        let a = ActionPattern::new("s3:Get*");
        assert_eq!(a.lower, "s3:get*");
        assert!(wildcard_match(&a.lower, "s3:getobject"));
        assert!(!wildcard_match(&a.lower, "s3:putobject"));
        assert!(wildcard_match("s3:?etobject", "s3:getobject"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("s3:get", "s3:getobject"));
        assert!(wildcard_match("s3:*object*", "s3:getobjectversion"));
    }

    #[test]
    fn variables_tokenise() {
        let p = pat("home/${aws:username}/*");
        assert_eq!(
            p.tokens,
            vec![
                Token::Literal("home/".into()),
                Token::Variable {
                    key_lower: "aws:username".into(),
                    default: None
                },
                Token::Literal("/".into()),
                Token::AnyRun,
            ]
        );
        let p = pat("${aws:PrincipalTag/Team, 'none'}");
        assert_eq!(
            p.tokens,
            vec![Token::Variable {
                key_lower: "aws:principaltag/team".into(),
                default: Some("none".into())
            }]
        );
        let p = pat("a${*}b${?}c${$}");
        assert_eq!(p.tokens, vec![Token::Literal("a*b?c$".into())]);
        // 2008: literal text.
        let p = Pattern::new("${aws:username}", true, false).unwrap();
        assert_eq!(p.tokens, vec![Token::Literal("${aws:username}".into())]);
        // A `$` not followed by `{` is literal.
        assert_eq!(pat("a$b").tokens, vec![Token::Literal("a$b".into())]);
    }

    #[test]
    fn malformed_variables() {
        for bad in [
            "${aws:username",
            "${}",
            "${ }",
            "${a b}",
            "${a, default}",
            "${a, 'x}",
            "${a, 'x' y}",
        ] {
            assert!(Pattern::new(bad, true, true).is_err(), "{bad}");
            assert!(Pattern::new(bad, true, false).is_ok(), "{bad}");
        }
    }

    #[test]
    fn variables_resolve() {
        let c = MapContext::default()
            .with("aws:username", &["alice"])
            .with("aws:tags", &["a", "b"])
            .with("star", &["*"]);
        let p = pat("home/${aws:username}/*");
        assert!(p.matches_impl("home/alice/x", &c, false));
        assert!(!p.matches_impl("home/bob/x", &c, false));
        // Absent and multi-valued variables never match, unless there is a default.
        assert!(!pat("${nope}").matches_impl("", &c, false));
        assert!(!pat("${aws:tags}").matches_impl("a", &c, false));
        assert!(pat("${nope, 'dflt'}").matches_impl("dflt", &c, false));
        assert!(pat("${aws:tags, 'd'}").matches_impl("d", &c, false));
        assert!(pat("${nope, ''}x").matches_impl("x", &c, false));
        // Variable values are literal, not wildcards.
        assert!(pat("${star}").matches_impl("*", &c, false));
        assert!(!pat("${star}").matches_impl("x", &c, false));
        // Key look-up is case-insensitive.
        assert!(pat("${AWS:UserName}").matches_impl("alice", &c, false));
    }

    #[test]
    fn arn_segments() {
        let c = MapContext::default();
        let objects = pat("arn:aws:s3:::bucket/*");
        assert!(objects.matches_arn_impl("arn:aws:s3:::bucket/key", &c));
        assert!(objects.matches_arn_impl("arn:aws:s3:::bucket/a/b:c", &c));
        assert!(!objects.matches_arn_impl("arn:aws:s3:::bucket", &c));
        assert!(!objects.matches_arn_impl("arn:aws:s3:::other/key", &c));
        let bucket = pat("arn:aws:s3:::bucket");
        assert!(bucket.matches_arn_impl("arn:aws:s3:::bucket", &c));
        assert!(!bucket.matches_arn_impl("arn:aws:s3:::bucket/x", &c));
        let region = pat("arn:aws:kms:*:111122223333:key/*");
        assert!(region.matches_arn_impl("arn:aws:kms:eu-west-1:111122223333:key/abc", &c));
        assert!(!region.matches_arn_impl("arn:aws:kms:eu-west-1:444455556666:key/abc", &c));
        // A `*` inside a segment does not cross `:`.
        let p = pat("arn:aws:*:111122223333:key/x");
        assert!(!p.matches_arn_impl("arn:aws:kms:eu-west-1:111122223333:key/x", &c));
        assert!(pat("*").matches_arn_impl("not an arn", &c));
        assert!(pat("arn:aws:s3:::*").matches_arn_impl("arn:aws:s3:::b/k", &c));
        assert!(!pat("arn:aws:s3:::*").matches_arn_impl("arn:aws:s3::b/k", &c));
        // Case-sensitive.
        assert!(!bucket.matches_arn_impl("arn:aws:s3:::Bucket", &c));
        // Fewer parts.
        assert!(pat("a:b*").matches_arn_impl("a:bc", &c));
        assert!(!pat("a:b*").matches_arn_impl("a:b:c", &c));
    }

    #[test]
    fn arn_with_variables() {
        let c = MapContext::default().with("aws:username", &["al:ice"]);
        let p = pat("arn:aws:s3:::b/home/${aws:username}/*");
        assert!(p.matches_arn_impl("arn:aws:s3:::b/home/al:ice/x", &c));
        let p = pat("arn:aws:iam::${aws:username}:user/x");
        assert!(!p.matches_arn_impl("arn:aws:iam::al:ice:user/x", &c));
    }

    #[test]
    fn quote_truncates() {
        let q = quote(&"é".repeat(200));
        assert!(q.ends_with("…`"));
        assert_eq!(quote("x"), "`x`");
    }
}
