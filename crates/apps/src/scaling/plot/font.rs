//! The charts' font: DejaVu Sans, embedded in the binary and registered with plotters
//! once, so that text renders the same on a machine with no fonts installed.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

/// The family name the charts ask for.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded font (once per process); an error if its bytes were unusable.
pub(crate) fn ensure() -> std::io::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(std::io::Error::other("the embedded chart font could not be loaded"))
    }
}
