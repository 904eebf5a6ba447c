//! `--shard K/N`: a deterministic, stable subset of the (account, bucket) pairs, so that N runners
//! given `1/N` … `N/N` cover every pair exactly once.
//!
//! The shard of a pair is `(u64 of the first 8 bytes, big-endian, of SHA-256("ACCOUNT/BUCKET")) mod
//! N + 1`. It depends only on the account id, the bucket name and N — not on the file's order, the
//! other buckets or the machine — so a bucket stays in its shard while others come and go, and
//! the split is computed after `*` is expanded. An account whose bucket list could not be read is
//! reported by the shard of the pair (ACCOUNT, `*`) only. Pure.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One shard: `index` of `count`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// The bucket name that stands for "the account's bucket list" in [`shard_of`].
pub const ALL_BUCKETS: &str = "*";

/// The shard (1-based, of `count`) of `bucket` in `account`. `count` 0 counts as 1.
pub fn shard_of(account: &str, bucket: &str, count: u32) -> u32 {
    let mut h = Sha256::new();
    h.update(account.as_bytes());
    h.update(b"/");
    h.update(bucket.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32 + 1
}

impl Shard {
    /// Whether this shard holds `bucket` of `account`.
    pub fn selects(&self, account: &str, bucket: &str) -> bool {
        shard_of(account, bucket, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with 1 ≤ K ≤ N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write K/N with 1 <= K <= N, e.g. 1/3");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "-1/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard { index: 2, count: 3 }.to_string(), "2/3");
    }

    #[test]
    fn the_shard_is_the_documented_hash() {
        // Values computed independently from the formula in the module header (SHA-256 of
        // "ACCOUNT/BUCKET", first 8 bytes big-endian, mod N, plus 1): the split must never change
        // between versions or machines, since the runners of one job may run different builds.
        let fixed = [
            ("111122223333", "reports", 3, 3),
            ("111122223333", "a", 3, 2),
            ("111122223333", "b", 7, 6),
            ("444455556666", "logs-2026", 5, 5),
            ("123456789012", ALL_BUCKETS, 3, 3),
        ];
        for (account, bucket, n, want) in fixed {
            assert_eq!(
                shard_of(account, bucket, n),
                want,
                "{account}/{bucket} of {n}"
            );
        }
        assert_eq!(shard_of("111122223333", "reports", 1), 1);
        assert_eq!(shard_of("111122223333", "reports", 0), 1, "0 counts as 1");
        assert!(Shard { index: 3, count: 3 }.selects("111122223333", "reports"));
        assert!(!Shard { index: 1, count: 3 }.selects("111122223333", "reports"));
    }
}
