//! Printers: turn decisions (and later plans) into text for a person. Pure: they return strings;
//! the CLI decides where they go. JSON output is the types' own `Serialize`.

pub mod plan;
pub mod text;
