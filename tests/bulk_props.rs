//! Property tests of bulk planning's pure parts (src/bulk): `--shard K/N` partitions the
//! (account, bucket) targets exactly — for random accounts, bucket lists (with repeats) and N in
//! 1..8, the N shards are pairwise disjoint and their union is the whole set — and a bucket's
//! shard does not move when other buckets come or go; the run's exit code is its worst target's
//! (error 1 > refused 3 > planned/manual 2 > ok 0); and targets files written from random
//! accounts and buckets parse back to what was written.

use std::collections::BTreeSet;

use proptest::prelude::*;
use s3medic::bulk::shard::shard_of;
use s3medic::bulk::targets::parse_targets;
use s3medic::bulk::{bucket_jobs, BucketSelection, Shard, Status, Summary, TargetResult, Targets};

/// A targets file with these accounts (named buckets) and one request for every bucket.
fn targets_file(accounts: &[(String, Vec<String>)]) -> String {
    let mut t = String::new();
    for (id, buckets) in accounts {
        // The file lists each bucket once (the parser refuses repeats); the runs below are
        // given the raw lists, repeats included.
        let list: Vec<String> = first_occurrences(buckets)
            .iter()
            .map(|b| format!("\"{b}\""))
            .collect();
        t.push_str(&format!(
            "[[account]]\nid = \"{id}\"\nbuckets = [{}]\n\n",
            if list.is_empty() {
                "\"*\"".to_string()
            } else {
                list.join(", ")
            }
        ));
    }
    t.push_str(
        "[[request]]\nprincipal = \"arn:aws:iam::{account}:role/Reader\"\noperation = \"GetObject\"\nprefix = \"p/\"\n",
    );
    t
}

/// `v` without repeats, in first-occurrence order.
fn first_occurrences(v: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    v.iter().filter(|b| seen.insert(*b)).cloned().collect()
}

fn accounts_strategy() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
    proptest::collection::btree_set("[0-9]{12}", 1..5).prop_flat_map(|ids| {
        let ids: Vec<String> = ids.into_iter().collect();
        let n = ids.len();
        (
            Just(ids),
            proptest::collection::vec(proptest::collection::vec("[a-z0-9]{3,12}", 1..40), n..=n),
        )
            .prop_map(|(ids, buckets)| ids.into_iter().zip(buckets).collect())
    })
}

/// Every (account, bucket) of `buckets` the jobs of `shard` hold.
fn pairs(
    t: &Targets,
    accounts: &[(String, Vec<String>)],
    shard: Option<Shard>,
) -> Vec<(String, String)> {
    accounts
        .iter()
        .flat_map(|(id, buckets)| bucket_jobs(t, id, buckets, shard))
        .map(|j| (j.account, j.bucket))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn shards_partition_the_targets(accounts in accounts_strategy(), n in 1u32..8) {
        let text = targets_file(&accounts);
        let t = parse_targets("t.toml", &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let all: Vec<(String, String)> = pairs(&t, &accounts, None);
        let all_set: BTreeSet<(String, String)> = all.iter().cloned().collect();
        prop_assert_eq!(all.len(), all_set.len(), "no bucket twice in one run");
        let distinct: usize = accounts
            .iter()
            .map(|(_, b)| b.iter().collect::<BTreeSet<_>>().len())
            .sum();
        prop_assert_eq!(all_set.len(), distinct);
        let mut union: BTreeSet<(String, String)> = BTreeSet::new();
        let mut total = 0;
        for k in 1..=n {
            let shard = Some(Shard { index: k, count: n });
            let part = pairs(&t, &accounts, shard);
            total += part.len();
            for (a, b) in &part {
                prop_assert_eq!(shard_of(a, b, n), k);
                prop_assert!(union.insert((a.clone(), b.clone())), "{a}/{b} in two shards");
            }
        }
        prop_assert_eq!(total, all_set.len(), "no overlap");
        prop_assert_eq!(union, all_set, "every target in some shard");
    }

    #[test]
    fn a_bucket_keeps_its_shard_when_others_change(
        accounts in accounts_strategy(),
        extra in proptest::collection::vec("[a-z0-9]{3,12}", 0..20),
        n in 1u32..8,
    ) {
        let t = parse_targets("t.toml", &targets_file(&accounts))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (id, buckets) = &accounts[0];
        let mut more = buckets.clone();
        more.extend(extra);
        for k in 1..=n {
            let shard = Some(Shard { index: k, count: n });
            let before: BTreeSet<String> =
                bucket_jobs(&t, id, buckets, shard).into_iter().map(|j| j.bucket).collect();
            let after: BTreeSet<String> =
                bucket_jobs(&t, id, &more, shard).into_iter().map(|j| j.bucket).collect();
            prop_assert!(before.is_subset(&after));
        }
    }

    #[test]
    fn targets_files_parse_back(accounts in accounts_strategy()) {
        let t = parse_targets("t.toml", &targets_file(&accounts))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(t.accounts.len(), accounts.len());
        for (a, (id, buckets)) in t.accounts.iter().zip(&accounts) {
            prop_assert_eq!(&a.id, id);
            prop_assert_eq!(&a.buckets, &BucketSelection::Named(first_occurrences(buckets)));
        }
    }

    #[test]
    fn the_worst_target_decides_the_exit_code(
        statuses in proptest::collection::vec(0usize..5, 0..30)
    ) {
        let all = [Status::Ok, Status::Planned, Status::Manual, Status::Refused, Status::Error];
        let mut sum = Summary::default();
        for &i in &statuses {
            let mut r = TargetResult::error("111122223333", Some("b"), Some("r"), None, String::new());
            r.status = all[i];
            sum.add(&r);
        }
        let has = |s: Status| statuses.iter().any(|&i| all[i] == s);
        let want = if has(Status::Error) {
            1
        } else if has(Status::Refused) {
            3
        } else if has(Status::Planned) || has(Status::Manual) {
            2
        } else {
            0
        };
        prop_assert_eq!(sum.exit_code(), want);
        prop_assert_eq!(sum.targets, statuses.len());
        prop_assert_eq!(sum.ok + sum.planned + sum.manual + sum.refused + sum.error, statuses.len());
    }
}
