//! One table declares a group of settings; [`settings_table!`] expands it
//! into the three forms a setting takes: a command-line flag with its
//! environment variable (a `clap::Args` struct), a key of the TOML file (a
//! `serde` struct), and the value that wins (flag or environment variable,
//! then the file, then the default).
//!
//! An entry is written like a struct field:
//!
//! ```text
//! /// Help text of the flag (and the doc of the resolved field).
//! #[arg(long, env = "S3GW_REGION")]   // clap's attribute; `#[arg(skip)]`: no flag
//! #[serde(skip)]                      // optional serde attribute; `skip`: no file key
//! pub region: String = "us-east-1".into(),
//! ```
//!
//! The field's name is its file key; the default after `=` is optional
//! (without one the resolved value is an `Option`). A table may end with
//! `sections { name: ArgsType, FileType }`: another table's flags are
//! flattened into these, and its file struct is the `[name]` table of the
//! file. Sections are layered by their own table, so a backend can parse
//! its own settings (`storage::cassandra::options`).
//!
//! Generic: nothing here knows a setting of s3gw.

/// Expands a settings table (see the module documentation) into
/// `$Args` (clap flags, every field an `Option`), `$File` (the TOML form,
/// unknown keys refused) and `$Layered` (each setting from its first
/// source, with `$Layered::layer(&args, &file)`; its `Default` is the
/// defaults).
macro_rules! settings_table {
    (
        $(#[$args_meta:meta])*
        $args_vis:vis struct $Args:ident;
        $(#[$file_meta:meta])*
        $file_vis:vis struct $File:ident;
        $(#[$layered_meta:meta])*
        $layered_vis:vis struct $Layered:ident;
        {
            $(
                $(#[doc = $doc:literal])*
                #[arg($($arg:tt)*)]
                $(#[serde($($serde:tt)*)])?
                pub $name:ident : $ty:ty $(= $default:expr)?
            ),* $(,)?
        }
        $(sections { $($section:ident : $SectionArgs:ty, $SectionFile:ty),* $(,)? })?
    ) => {
        $(#[$args_meta])*
        #[derive(Debug, Default, clap::Args)]
        $args_vis struct $Args {
            $(
                $(#[doc = $doc])*
                #[arg($($arg)*)]
                pub $name: Option<$ty>,
            )*
            $($(
                #[command(flatten)]
                pub $section: $SectionArgs,
            )*)?
        }

        $(#[$file_meta])*
        #[derive(Debug, Default, Clone, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        $file_vis struct $File {
            $(
                $(#[serde($($serde)*)])?
                pub $name: Option<$ty>,
            )*
            $($(
                pub $section: Option<$SectionFile>,
            )*)?
        }

        $(#[$layered_meta])*
        #[derive(Debug, Clone)]
        // A setting read from its flag alone before the file is (`config`,
        // the file's own path) is never read from here.
        #[allow(dead_code)]
        $layered_vis struct $Layered {
            $(
                $(#[doc = $doc])*
                pub $name: $crate::settings::layered_type!($ty $(, $default)?),
            )*
        }

        impl $Layered {
            /// Each setting from the first source that has it: its flag or
            /// environment variable (clap reads both), the file, its default.
            pub(crate) fn layer(args: &$Args, file: &$File) -> $Layered {
                $Layered {
                    $(
                        $name: $crate::settings::layered_value!(
                            args.$name.clone().or_else(|| file.$name.clone())
                            $(, $default)?
                        ),
                    )*
                }
            }
        }

        impl Default for $Layered {
            /// Every setting at its default.
            fn default() -> Self {
                $Layered::layer(&$Args::default(), &$File::default())
            }
        }
    };
}

/// The resolved type of a setting: itself with a default, else an `Option`.
macro_rules! layered_type {
    ($ty:ty) => { Option<$ty> };
    ($ty:ty, $default:expr) => { $ty };
}

/// The resolved value of a setting from its first source, else its default.
macro_rules! layered_value {
    ($found:expr) => {
        $found
    };
    ($found:expr, $default:expr) => {
        $found.unwrap_or_else(|| $default)
    };
}

pub(crate) use {layered_type, layered_value, settings_table};
