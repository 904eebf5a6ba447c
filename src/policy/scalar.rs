//! Typed scalar parsing shared by condition values (at parse time) and request-context values
//! (at evaluation time): numbers, dates, booleans, IP addresses / CIDRs and base64 binaries.
//!
//! Everything used at evaluation time (`parse_number`, `parse_date`, `parse_bool`, `parse_ip`,
//! `base64_equals`) is allocation-free.

use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use ipnet::IpNet;

/// A finite decimal number (`10`, `-1.5`, `1e3`); `None` for anything else (incl. NaN / inf).
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    // Rust also accepts `inf`, `nan`, `infinity`: IAM numbers are plain decimals only.
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A date as seconds since the Unix epoch (fractional part kept).
///
/// Accepts ISO 8601 / RFC 3339 date-times (`2026-01-01T00:00:00Z`, `...T00:00:00.123+02:00`,
/// `...T00:00:00+0200`, `...T00:00Z`, a date-time without zone is UTC), a bare date
/// (`2026-01-01`, midnight UTC) and epoch seconds (`1767225600`, `1767225600.5`).
pub fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Some(n) = parse_number(s) {
        return Some(n);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(seconds(dt.timestamp(), dt.timestamp_subsec_nanos()));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(seconds(dt.timestamp(), dt.timestamp_subsec_nanos()));
        }
    }
    let naive = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix('z'))
        .unwrap_or(s);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            let dt = dt.and_utc();
            return Some(seconds(dt.timestamp(), dt.timestamp_subsec_nanos()));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let dt = d.and_hms_opt(0, 0, 0)?.and_utc();
        return Some(seconds(dt.timestamp(), 0));
    }
    None
}

fn seconds(secs: i64, nanos: u32) -> f64 {
    secs as f64 + f64::from(nanos) / 1e9
}

/// `true` / `false`, case-insensitively.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A CIDR block (`203.0.113.0/24`, `2001:db8::/32`) or a bare address (→ `/32` or `/128`).
pub fn parse_cidr(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Some(net);
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

/// A request IP address; a value written as a CIDR yields its address part.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<IpNet>().ok().map(|n| n.addr()))
}

/// Decodes a base64 policy value (standard alphabet, padding optional).
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .ok()
}

/// Whether the base64 text `encoded` decodes to exactly `expected`, decoding in 4-character
/// chunks on the stack (no allocation).
pub fn base64_equals(encoded: &str, expected: &[u8]) -> bool {
    let enc = encoded.trim().as_bytes();
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut pos = 0usize;
    let mut chunks = enc.chunks(4).peekable();
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let mut quad = [b'='; 4];
        if chunk.len() < 4 && !last {
            return false;
        }
        quad[..chunk.len()].copy_from_slice(chunk);
        if !last && quad.contains(&b'=') {
            return false;
        }
        let mut out = [0u8; 3];
        let Ok(n) = engine.decode_slice(quad, &mut out) else {
            return false;
        };
        let Some(want) = expected.get(pos..pos + n) else {
            return false;
        };
        if want != &out[..n] {
            return false;
        }
        pos += n;
    }
    pos == expected.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number(" -1.5 "), Some(-1.5));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("ten"), None);
        assert_eq!(parse_number(""), None);
    }

    #[test]
    fn dates() {
        let d = 1_767_225_600.0; // 2026-01-01T00:00:00Z
        assert_eq!(parse_date("2026-01-01T00:00:00Z"), Some(d));
        assert_eq!(parse_date("2026-01-01T00:00:00.500Z"), Some(d + 0.5));
        assert_eq!(parse_date("2026-01-01T02:00:00+02:00"), Some(d));
        assert_eq!(parse_date("2026-01-01T02:00:00+0200"), Some(d));
        assert_eq!(parse_date("2026-01-01T00:00:00"), Some(d));
        assert_eq!(parse_date("2026-01-01T00:00Z"), Some(d));
        assert_eq!(parse_date("2026-01-01"), Some(d));
        assert_eq!(parse_date("1767225600"), Some(d));
        assert_eq!(parse_date("1767225600.25"), Some(d + 0.25));
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("2026-13-01"), None);
    }

    #[test]
    fn bools_and_ips() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(
            parse_cidr("10.0.0.1"),
            Some("10.0.0.1/32".parse::<IpNet>().unwrap())
        );
        assert_eq!(
            parse_cidr("2001:db8::1"),
            Some("2001:db8::1/128".parse::<IpNet>().unwrap())
        );
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("nope").is_none());
        assert_eq!(parse_ip("10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(parse_ip("10.1.2.3/8"), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(parse_ip("x"), None);
    }

    #[test]
    fn base64() {
        assert_eq!(decode_base64("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("!!"), None);
        assert!(base64_equals("aGVsbG8=", b"hello"));
        assert!(base64_equals("aGVsbG8", b"hello"));
        assert!(base64_equals("", b""));
        assert!(base64_equals("aGk=", b"hi"));
        assert!(!base64_equals("aGk=", b"hi!"));
        assert!(!base64_equals("aGVsbG8=", b"hellO"));
        assert!(!base64_equals("aG=sbG8=", b"hello"));
        assert!(!base64_equals("a", b""));
    }
}
