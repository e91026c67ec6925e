//! Where a build's time goes: wall and CPU seconds per stage. CPU time is the
//! whole process's (every thread), so on a shared machine it shows the work
//! a stage did even when other processes stretch its wall time.

use std::time::Instant;

/// One build stage's cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageTime {
    pub stage: &'static str,
    pub wall_s: f64,
    /// CPU seconds of all the process's threads during the stage.
    pub cpu_s: f64,
}

/// Laps of a build, stage after stage.
pub(crate) struct StageClock {
    wall: Instant,
    cpu: f64,
    pub times: Vec<StageTime>,
}

impl StageClock {
    pub fn start() -> Self {
        Self { wall: Instant::now(), cpu: process_cpu_seconds(), times: Vec::new() }
    }

    /// Ends `stage` now; the next stage starts.
    pub fn lap(&mut self, stage: &'static str) {
        let (wall, cpu) = (Instant::now(), process_cpu_seconds());
        self.times.push(StageTime { stage, wall_s: (wall - self.wall).as_secs_f64(), cpu_s: cpu - self.cpu });
        (self.wall, self.cpu) = (wall, cpu);
    }
}

fn process_cpu_seconds() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for the call to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return 0.0;
    }
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_count_the_work_done_in_them() {
        let mut clock = StageClock::start();
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed().as_millis() < 20 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        clock.lap("spin");
        clock.lap("nothing");
        let [spin, nothing] = [clock.times[0], clock.times[1]];
        assert_eq!((spin.stage, nothing.stage), ("spin", "nothing"));
        assert!(spin.wall_s >= 0.02 && spin.cpu_s > 0.005, "{spin:?}");
        assert!(nothing.wall_s < spin.wall_s && nothing.cpu_s < spin.cpu_s, "{nothing:?}");
    }
}
