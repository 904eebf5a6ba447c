//! Writing an output file (a plan, a World snapshot, a rollback snapshot) atomically: the bytes go
//! to a temporary file beside the target, which is then renamed over it, so a reader sees either
//! the old file or the whole new one. A target that exists but is not a regular file (a device
//! such as `/dev/null`, a directory, a FIFO) is refused: renaming over it would replace it.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` atomically (see the module header). Fails, writing nothing, when
/// `path` exists and is not a regular file (symbolic links are followed).
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "it exists and is not a regular file (s3medic replaces output files whole)",
            ));
        }
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.s3medic-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("s3medic-atomic-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    }

    #[test]
    fn writes_and_replaces_a_regular_file_leaving_no_temporary_file() {
        let d = scratch("regular");
        let p = d.join("plan.json");
        write_atomically(&p, b"one").expect("first write");
        write_atomically(&p, b"two").expect("second write");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(&d).expect("list").collect();
        assert_eq!(names.len(), 1, "only the target is left");
    }

    #[test]
    fn refuses_a_directory_or_a_device_and_leaves_it_alone() {
        let d = scratch("special");
        let sub = d.join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        let e = write_atomically(&sub, b"x").expect_err("a directory is refused");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(sub.is_dir());
        let null = Path::new("/dev/null");
        assert!(write_atomically(null, b"x").is_err());
        let meta = std::fs::metadata(null).expect("stat /dev/null");
        assert!(!meta.is_file(), "/dev/null is still a device");
        assert_eq!(std::fs::read_dir(&d).expect("list").count(), 1);
    }
}
