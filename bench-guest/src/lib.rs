//! The connector's sync of an unchanged user against a one-answer transport, run inside a
//! component: the component side of `host-harness bench`'s native-versus-component ratio.
//! The loop is `atlassian_connector::bench_loop::sync_unchanged`; the native side of the
//! ratio calls the very same function.

wit_bindgen::generate!({ path: "wit", world: "bench" });

struct Bench;

impl Guest for Bench {
    fn run(iterations: u32, lookup_url: String, answer: String) -> Result<u64, String> {
        atlassian_connector::bench_loop::sync_unchanged(iterations, &lookup_url, &answer)
    }
}

export!(Bench);
