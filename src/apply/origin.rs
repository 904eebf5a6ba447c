//! CloudFront origin access controls created by `apply`, and their removal on undo. A plan that
//! attaches a new origin access control to an origin names it `new:NAME`; before the write,
//! [`prepare`] records whether a control of that name already exists (then it is reused and never
//! deleted); [`write`] creates the control when it does not, records its id, and writes the
//! origin with that id. Undo and rollback first restore the origin (so the distribution no longer
//! references the control) and only then delete the control apply created
//! ([`control_to_delete`], `DeleteOriginAccessControl` with `If-Match`).

use serde_json::Value;

use super::snapshot::OacState;
use super::{ApplyError, Store};
use crate::plan::Target;

/// The name of the origin access control an origin document asks apply to create (`new:NAME`).
pub fn requested_name(doc: &Value) -> Option<&str> {
    doc.get("OriginAccessControlId")
        .and_then(Value::as_str)
        .and_then(|id| id.strip_prefix("new:"))
        .filter(|name| !name.is_empty())
}

/// What to save before the write: whether a control named `name` exists already.
pub async fn prepare<S: Store>(store: &S, t: &Target, name: &str) -> Result<OacState, ApplyError> {
    let existed = store.find_origin_access_control(t, name).await?.is_some();
    Ok(OacState {
        name: name.to_string(),
        existed,
        created_id: None,
    })
}

/// The origin document `after` with the control's real id in place of `new:NAME`.
pub fn with_control_id(after: &Value, id: &str) -> Value {
    let mut doc = after.clone();
    if let Some(m) = doc.as_object_mut() {
        m.insert(
            "OriginAccessControlId".into(),
            Value::String(id.to_string()),
        );
    }
    doc
}

/// Finds or creates the control named in `st` (recording the id of one it creates) and writes
/// the origin `after` with its id. Returns the document written. `Err((made, e))`: `made` when a
/// control was created.
pub async fn write<S: Store>(
    store: &S,
    t: &Target,
    after: &Value,
    st: &mut OacState,
) -> Result<Value, (bool, ApplyError)> {
    let id = match store
        .find_origin_access_control(t, &st.name)
        .await
        .map_err(|e| (false, e))?
    {
        Some(id) => id,
        None => {
            let id = store
                .create_origin_access_control(t, &st.name)
                .await
                .map_err(|e| (false, e))?;
            st.created_id = Some(id.clone());
            id
        }
    };
    let doc = with_control_id(after, &id);
    store
        .write(t, &doc)
        .await
        .map_err(|e| (st.created_id.is_some(), e))?;
    Ok(doc)
}

/// The id of the control apply created that still exists (to delete once the origin is
/// restored): the recorded id, or — when apply stopped before recording it — a control of the
/// requested name that did not exist before apply.
pub async fn control_to_delete<S: Store>(
    store: &S,
    t: &Target,
    st: &OacState,
) -> Result<Option<String>, ApplyError> {
    match &st.created_id {
        Some(id) => Ok(store
            .origin_access_control_exists(t, id)
            .await?
            .then(|| id.clone())),
        None if !st.existed => store.find_origin_access_control(t, &st.name).await,
        None => Ok(None),
    }
}

/// The step for a person.
pub fn describe_delete(id: &str, st: &OacState) -> String {
    format!(
        "delete origin access control `{id}` (`{}`, created by apply) once the origin no longer uses it",
        st.name
    )
}
