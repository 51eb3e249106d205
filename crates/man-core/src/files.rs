//! Reading whole files with a size limit, and only regular files: a path that
//! names a FIFO would block forever and one that names `/dev/zero` would never
//! end, so both are refused by name before a byte is read.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::{ManError, Result};

/// What a non-regular file is, for the error message.
fn kind_name(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Opens without blocking: opening a FIFO for reading otherwise waits for a
/// writer. The flag changes nothing for regular files.
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Human-readable byte count for limit messages.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value < 10.0 { 1 } else { 0 };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// The whole content of the regular file `path`, refusing anything else and
/// anything over `max_bytes` (`what` names the limit in the message, e.g.
/// "per image file (maxImageMB)"). The size is checked from the file's
/// metadata first and enforced again while reading, so a file that grows
/// meanwhile cannot slip through.
pub fn read_regular_file(path: &Path, max_bytes: u64, what: &str) -> Result<Vec<u8>> {
    let file = open_nonblocking(path).map_err(|e| ManError::io(path, e))?;
    let meta = file.metadata().map_err(|e| ManError::io(path, e))?;
    if !meta.is_file() {
        let kind = kind_name(&meta.file_type());
        return Err(ManError::io(path, io::Error::other(format!("{kind}, not a regular file: refused"))));
    }
    let too_big = |size: Option<u64>| {
        let limit = format_bytes(max_bytes);
        let why = match size {
            Some(size) => format!("{} is over the limit of {limit} {what}", format_bytes(size)),
            None => format!("more than the limit of {limit} {what}"),
        };
        ManError::io(path, io::Error::other(why))
    };
    if meta.len() > max_bytes {
        return Err(too_big(Some(meta.len())));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut out).map_err(|e| ManError::io(path, e))?;
    if out.len() as u64 > max_bytes {
        return Err(too_big(None));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_naturally() {
        assert_eq!(format_bytes(512), "512 bytes");
        assert_eq!(format_bytes(64 << 20), "64 MiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(20 << 30), "20 GiB");
    }

    #[test]
    fn devices_and_directories_are_refused_by_kind() {
        let err = read_regular_file(Path::new("/dev/zero"), 1 << 20, "per test").unwrap_err();
        assert!(err.to_string().contains("/dev/zero: a character device"), "{err}");
        let err = read_regular_file(Path::new("/"), 1 << 20, "per test").unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }
}
