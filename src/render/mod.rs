//! Printers: turn decisions and plans into text for a person (and saved plans into Markdown for a
//! change ticket). Pure: they return strings; the CLI decides where they go. JSON output is the
//! types' own `Serialize`.

pub mod markdown;
pub mod plan;
pub mod text;
