//! The Lambda binary's init: from process start to its first poll of the Runtime API for an
//! event (what Lambda bills as init on a cold start), against a stand-in Runtime API that only
//! notes when the poll arrives.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::case::sibling;

/// The wait for one poll before the spawn counts as failed.
const GIVE_UP: Duration = Duration::from_secs(10);

fn first_poll() -> Result<Duration, String> {
    let runtime_api = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = runtime_api.local_addr().map_err(|e| e.to_string())?;
    runtime_api
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(sibling("rootsweep-lambda"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "rootsweep")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        // No emulator answers: init makes no AWS call, it only loads the configuration.
        .envs(rootsweep_emulator::client_environment("http://127.0.0.1:9"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("rootsweep-lambda starts (make bench builds it): {e}"))?;
    let polled = loop {
        match runtime_api.accept() {
            Ok((mut stream, _)) => {
                let at = started.elapsed();
                let mut head = [0u8; 64];
                let _ = stream.read(&mut head);
                let request = String::from_utf8_lossy(&head);
                break if request.contains("/runtime/invocation/next") {
                    Ok(at)
                } else {
                    Err(format!("the first request was {request:?}"))
                };
            }
            Err(_) if started.elapsed() < GIVE_UP => std::thread::sleep(Duration::from_micros(200)),
            Err(err) => break Err(format!("no poll within {GIVE_UP:?}: {err}")),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    polled
}

/// The median, minimum and maximum init over `spawns` cold starts, as a JSON line.
pub fn measure(spawns: usize) -> Result<String, String> {
    let mut times = (0..spawns)
        .map(|_| first_poll())
        .collect::<Result<Vec<_>, _>>()?;
    times.sort();
    let ms = |d: &Duration| (d.as_secs_f64() * 10_000.0).round() / 10.0;
    Ok(json!({
        "lambda_init_ms": {
            "median": ms(&times[times.len() / 2]),
            "min": ms(&times[0]),
            "max": ms(&times[times.len() - 1]),
            "spawns": spawns,
        }
    })
    .to_string())
}
