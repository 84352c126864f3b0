//! Renderings of the report: the Markdown dashboard and the badges. Pure text out.

pub mod badge;
pub mod dashboard;

/// Markdown text and XML (the SVG badge): the shared escapers of `domain::escape`.
pub use super::escape::{markdown as escape_md, xml as escape_xml};
