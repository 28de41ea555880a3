//! Embeds the icon (and the version information) in the Windows `.exe` files, so that Explorer,
//! the Start menu and the taskbar show Keydeck's icon before the program runs. Does nothing for
//! any other target.
//!
//! `winresource` is a build-dependency on Windows hosts only
//! (`[target.'cfg(windows)'.build-dependencies]`, matched against the host a build script runs
//! on): a Linux or macOS build compiles no new crate. Cross-compiling to Windows from another
//! OS therefore builds an `.exe` without the icon, and says so.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={ICON}");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return Ok(());
    }
    embed_icon()
}

const ICON: &str = "assets/icons/keydeck.ico";

#[cfg(windows)]
fn embed_icon() -> Result<(), Box<dyn std::error::Error>> {
    let mut res = winresource::WindowsResource::new();
    res.set_icon(ICON);
    // One resource per binary (`rustc-link-arg-bin`), not one for every linked target (tests,
    // benches); `keydeckw` exists only with the `windows-gui` feature.
    res.compile_for("keydeck")?;
    if std::env::var_os("CARGO_FEATURE_WINDOWS_GUI").is_some() {
        res.compile_for("keydeckw")?;
    }
    Ok(())
}

#[cfg(not(windows))]
fn embed_icon() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "cargo:warning=the icon is not embedded in the .exe: winresource is built on Windows hosts only"
    );
    Ok(())
}
