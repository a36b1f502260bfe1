//! The organization being emulated: its types, loading from JSON, and the generated org.

mod generate;
mod org_file;
mod scenarios;
pub(crate) mod time;

pub(crate) use generate::random_string;
pub use org_file::OrgError;
pub(crate) use org_file::is_schedule_group_name;
pub use scenarios::EXEMPT_TAG;
