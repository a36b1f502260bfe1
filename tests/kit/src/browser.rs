//! A real browser for the HTML evidence: Debian's headless Chromium (`make test` installs it),
//! loading the page from a file with the network off, as an auditor opens a saved report. What
//! it gives back: the DOM as Chromium parsed it, and a screenshot decoded to pixels.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The flags that run Chromium headless here, as root, without a GPU or a network.
const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// A page as Chromium rendered it.
pub struct Rendered {
    pub dom: String,
    pub screenshot: Image,
}

/// Renders the page at `path`: its DOM once loaded, and a `width` x `height` screenshot.
pub fn render(path: &Path, width: u32, height: u32) -> Rendered {
    let url = format!(
        "file://{}",
        path.canonicalize().expect("the page").display()
    );
    let scratch = scratch_dir();
    let chromium = |args: &[String]| {
        let profile = scratch.join(format!("profile-{}", args.len()));
        let output = Command::new("chromium")
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(&url)
            .current_dir(&scratch)
            .output()
            .expect("chromium runs: `make chromium` installs Debian's package (apt-get install chromium)");
        assert!(
            output.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    let dom = String::from_utf8(chromium(&["--dump-dom".to_owned()])).expect("a UTF-8 DOM");
    let png = scratch.join("page.png");
    chromium(&[
        format!("--screenshot={}", png.display()),
        format!("--window-size={width},{height}"),
    ]);
    let screenshot = Image::png(&std::fs::read(&png).expect("the screenshot"));
    let _ = std::fs::remove_dir_all(&scratch);
    Rendered { dom, screenshot }
}

fn scratch_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rootsweep-browser-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The elements named `tag` in `dom`, each as its attributes (Chromium serializes them as
/// `name="value"`, with `&quot;` and `&amp;` inside values).
pub fn elements(dom: &str, tag: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{tag} ");
    dom.match_indices(&open)
        .map(|(start, _)| {
            let rest = &dom[start + open.len()..];
            let head = &rest[..rest.find('>').unwrap_or(rest.len())];
            let mut attributes = BTreeMap::new();
            let mut text = head;
            while let Some(eq) = text.find("=\"") {
                let name = text[..eq]
                    .trim()
                    .rsplit(' ')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let value_start = &text[eq + 2..];
                let end = value_start.find('"').unwrap_or(value_start.len());
                let value = value_start[..end]
                    .replace("&quot;", "\"")
                    .replace("&amp;", "&");
                attributes.insert(name, value);
                text = &value_start[(end + 1).min(value_start.len())..];
            }
            attributes
        })
        .collect()
}

/// The text right after the first element carrying `attribute`, up to the next tag.
pub fn text_after(dom: &str, attribute: &str) -> Option<String> {
    let at = dom.find(attribute)?;
    let rest = &dom[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')?;
    Some(rest[start..start + end].to_owned())
}

/// An RGB(A) 8-bit PNG, decoded (IHDR, IDAT, the five scanline filters).
pub struct Image {
    pub width: usize,
    pub height: usize,
    /// RGB per pixel, row by row.
    pub pixels: Vec<[u8; 3]>,
}

impl Image {
    pub fn png(bytes: &[u8]) -> Self {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        let (mut at, mut header, mut data) = (8, None, Vec::new());
        while at + 8 <= bytes.len() {
            let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let kind = &bytes[at + 4..at + 8];
            let body = &bytes[at + 8..at + 8 + length];
            match kind {
                b"IHDR" => header = Some(body.to_vec()),
                b"IDAT" => data.extend_from_slice(body),
                _ => {}
            }
            at += 12 + length;
        }
        let header = header.expect("an IHDR chunk");
        let number = |i: usize| u32::from_be_bytes(header[i..i + 4].try_into().unwrap()) as usize;
        let (width, height) = (number(0), number(4));
        let channels = match (header[8], header[9]) {
            (8, 2) => 3,
            (8, 6) => 4,
            other => panic!("bit depth and color type {other:?} not decoded"),
        };
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&data[..])
            .read_to_end(&mut raw)
            .expect("zlib data");
        let stride = width * channels;
        let mut previous = vec![0u8; stride];
        let mut pixels = Vec::with_capacity(width * height);
        for row in raw.chunks(stride + 1).take(height) {
            let (filter, line) = (row[0], &row[1..]);
            let mut current = vec![0u8; stride];
            for i in 0..stride {
                let left = if i >= channels {
                    current[i - channels]
                } else {
                    0
                };
                let up = previous[i];
                let up_left = if i >= channels {
                    previous[i - channels]
                } else {
                    0
                };
                let predicted = match filter {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                    4 => paeth(left, up, up_left),
                    other => panic!("PNG filter {other}"),
                };
                current[i] = line[i].wrapping_add(predicted);
            }
            pixels.extend(current.chunks(channels).map(|p| [p[0], p[1], p[2]]));
            previous = current;
        }
        Self {
            width,
            height,
            pixels,
        }
    }

    /// How many pixels are within `tolerance` of `color` on every channel.
    pub fn count(&self, color: [u8; 3], tolerance: u8) -> usize {
        self.pixels
            .iter()
            .filter(|p| (0..3).all(|c| p[c].abs_diff(color[c]) <= tolerance))
            .count()
    }
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
