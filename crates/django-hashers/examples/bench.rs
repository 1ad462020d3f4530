//! Rough timings of one hash per algorithm with Django 5.2's parameters.
use django_hashers::{Algorithm, Hashers};
use std::time::Instant;

fn main() {
    for alg in Algorithm::ALL {
        let h = match Hashers::new(vec![alg]) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("{alg}: {e}");
                continue;
            }
        };
        let t = Instant::now();
        let enc = h.make_password("password", &mut rand::rng());
        let t1 = t.elapsed();
        let t = Instant::now();
        let v = h.check_password("password", &enc);
        println!("{alg:14} make {t1:?} check {:?} {v:?}", t.elapsed());
    }
}
