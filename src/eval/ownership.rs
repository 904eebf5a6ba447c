//! Who owns an object, as S3 authorizes it: with Bucket owner enforced, the bucket owner; otherwise
//! the owner in the object's ACL (mapped to an account through its canonical id). Objects owned by
//! another account are authorized in that owner's context (their ACL), which bucket-policy grants
//! do not reach. Shared by the authorizer and diagnosis.

use crate::world::{Bucket, ObjectOwnership, Part, World};

/// `None` when the bucket owner owns the object (or nothing says otherwise); else
/// `Some((account, canonical id))` of the other owner, the account `None` when the World maps the
/// canonical id to no account.
pub fn foreign_owner<'w>(
    world: &'w World,
    bucket: &'w Bucket,
    key: &str,
) -> Option<(Option<&'w str>, &'w str)> {
    if bucket.effective_ownership() == Some(ObjectOwnership::BucketOwnerEnforced) {
        return None;
    }
    let Some(Part::Known(acl)) = bucket.object(key).map(|o| &o.acl) else {
        return None;
    };
    let owner_id = acl.owner_id.as_deref()?;
    match world.account_by_canonical_id(owner_id) {
        Some(a) if a.account_id == bucket.account_id => None,
        Some(a) => Some((Some(a.account_id.as_str()), owner_id)),
        None => {
            let bucket_owner = world
                .account(&bucket.account_id)
                .and_then(|a| a.canonical_user_id.as_deref())
                .or(match &bucket.acl {
                    Part::Known(a) => a.owner_id.as_deref(),
                    _ => None,
                });
            if bucket_owner == Some(owner_id) {
                None
            } else {
                Some((None, owner_id))
            }
        }
    }
}

/// Object-level actions evaluated in the object's own context (its owner's ACL); `action_lower`
/// is lower-case.
pub fn uses_object_context(action_lower: &str) -> bool {
    action_lower.starts_with("s3:getobject")
        || action_lower.starts_with("s3:putobjectacl")
        || action_lower.starts_with("s3:putobjectversionacl")
        || action_lower == "s3:restoreobject"
}
