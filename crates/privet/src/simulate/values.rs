//! Plausible values for a declared field, from its type and, for realism, its name: room
//! temperatures around 18–24 °C, heart rates of 55–160 bpm, locations around a UK city,
//! RFC 3339 times where a field is coarsened in time, and so on.

use jiff::{SignedDuration, Timestamp};
use privet_manifest::{Field, FieldType};
use serde_json::{Map, Number, Value, json};

/// Town centres the simulated homes are spread around (lat, lon).
const CITIES: &[(f64, f64)] = &[
    (51.5072, -0.1276), // London
    (53.4808, -2.2426), // Manchester
    (52.4862, -1.8904), // Birmingham
    (53.8008, -1.5491), // Leeds
    (55.9533, -3.1883), // Edinburgh
    (51.4545, -2.5879), // Bristol
    (51.4816, -3.1791), // Cardiff
    (54.5973, -5.9301), // Belfast
];

const WORDS: &[&str] = &[
    "kitchen", "hall", "garden", "lounge", "study", "porch", "landing", "attic",
];
const FOODS: &[&str] = &[
    "semi-skimmed milk",
    "cheddar",
    "free range eggs",
    "greek yoghurt",
    "butter",
    "orange juice",
    "spinach",
    "chicken thighs",
];
const REQUESTS: &[&str] = &[
    "what's the weather tomorrow",
    "set a timer for ten minutes",
    "play the news",
    "turn the landing light off",
    "add tea bags to the shopping list",
    "how long to roast a chicken",
    "play something relaxing",
    "what time is it in Toronto",
];
const FEATURES: &[&str] = &["music", "timers", "weather", "news", "smart_home"];
const SCREENS: &[&str] = &["today", "heart", "sleep", "runs", "settings", "trends"];
const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Makes values for one simulated device: its home's location and a random source.
pub(crate) struct ValueGen {
    rng: fastrand::Rng,
    home: (f64, f64),
}

impl ValueGen {
    /// A generator seeded with `seed`, for a home near one of the [`CITIES`].
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (lat, lon) = CITIES[rng.usize(..CITIES.len())];
        let home = (
            lat + rng.f64().mul_add(0.1, -0.05),
            lon + rng.f64().mul_add(0.16, -0.08),
        );
        ValueGen { rng, home }
    }

    /// The random source, for choices outside values (streams, members).
    pub(crate) fn rng(&mut self) -> &mut fastrand::Rng {
        &mut self.rng
    }

    /// A value of `field`'s declared type that its transforms accept.
    pub(crate) fn field(&mut self, field: &Field, now: Timestamp) -> Value {
        let timed = field.transform.coarsen_time.is_some();
        self.value(field.name.value.as_str(), &field.ty.value, timed, now)
    }

    fn value(&mut self, name: &str, ty: &FieldType, timed: bool, now: Timestamp) -> Value {
        match ty {
            FieldType::Number => number(self.number(name)),
            FieldType::Integer => Value::from(self.integer(name)),
            FieldType::Bool => Value::Bool(self.boolean(name)),
            FieldType::String => Value::String(self.string(name, timed, now)),
            FieldType::Location => self.location(0),
            FieldType::Object { schema } => {
                let mut map = Map::new();
                for (key, ty) in schema {
                    map.insert(key.clone(), self.value(key, ty, false, now));
                }
                Value::Object(map)
            }
            FieldType::Array { items } => {
                if matches!(**items, FieldType::Location) {
                    return self.route();
                }
                let n = match name {
                    n if n.contains("code") => self.rng.usize(0..3),
                    _ => self.rng.usize(1..5),
                };
                Value::Array(
                    (0..n)
                        .map(|_| self.value(name, items, timed, now))
                        .collect(),
                )
            }
        }
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        self.rng.f64().mul_add(high - low, low)
    }

    fn number(&mut self, name: &str) -> f64 {
        let n = name.to_ascii_lowercase();
        let v = if n.contains("target") {
            self.between(16.0, 22.0)
        } else if n.contains("temp") || n.ends_with("_c") {
            self.between(18.0, 24.0)
        } else if n.contains("humid") {
            self.between(30.0, 70.0)
        } else if n.contains("kwh") {
            self.between(0.02, 0.4)
        } else if n.contains("distance") {
            self.between(800.0, 12_000.0)
        } else if matches!(n.as_str(), "x" | "y" | "width" | "height") {
            self.between(0.05, 0.6)
        } else {
            self.between(0.0, 100.0)
        };
        // Sensors report to their resolution: four decimals.
        (v * 10_000.0).round() / 10_000.0
    }

    fn integer(&mut self, name: &str) -> i64 {
        let n = name.to_ascii_lowercase();
        let r = &mut self.rng;
        if n.contains("bpm") || n.contains("heart") {
            r.i64(55..=160)
        } else if n.contains("humid") {
            r.i64(30..=70)
        } else if n.contains("steps") {
            r.i64(0..=3_000)
        } else if n.contains("battery") {
            r.i64(5..=100)
        } else if n.contains("asleep") {
            r.i64(300..=540)
        } else if matches!(n.as_str(), "deep" | "rem") {
            r.i64(40..=120)
        } else if n == "light" {
            r.i64(150..=300)
        } else if n == "awake" {
            r.i64(5..=60)
        } else if n.contains("minutes") {
            r.i64(0..=60)
        } else if n.contains("dbm") {
            r.i64(-90..=-30)
        } else if n.ends_with("_ms") {
            r.i64(80..=1_500)
        } else if n.contains("seconds") {
            r.i64(1..=900)
        } else if n == "change" {
            let c = r.i64(1..=3);
            if r.bool() { c } else { -c }
        } else {
            r.i64(0..=100)
        }
    }

    fn boolean(&mut self, name: &str) -> bool {
        // Most homes are mostly occupied; doors and holiday modes are mostly off.
        let p_true = match name {
            n if n.contains("home") => 0.7,
            n if n.contains("open") || n.contains("holiday") => 0.1,
            _ => 0.5,
        };
        self.rng.f64() < p_true
    }

    fn string(&mut self, name: &str, timed: bool, now: Timestamp) -> String {
        let n = name.to_ascii_lowercase();
        if timed || n.ends_with("_at") || n == "ts" {
            let back = SignedDuration::from_secs(self.rng.i64(0..7_200));
            return now.checked_sub(back).unwrap_or(now).to_string();
        }
        let r = &mut self.rng;
        match n.as_str() {
            n if n.contains("firmware") || n.contains("version") => {
                format!("{}.{}.{}", r.u8(1..=5), r.u8(0..=9), r.u8(0..=20))
            }
            "day" => DAYS[r.usize(..DAYS.len())].to_owned(),
            "start" => format!("{:02}:{:02}", r.u8(5..=9), 15 * r.u8(0..4)),
            "end" => format!("{:02}:{:02}", r.u8(17..=23), 15 * r.u8(0..4)),
            "barcode" => (0..13).map(|_| r.digit(10)).collect(),
            "name" => FOODS[r.usize(..FOODS.len())].to_owned(),
            n if n.contains("best_before") => {
                let days = SignedDuration::from_hours(24 * r.i64(1..=21));
                let date = now
                    .checked_add(days)
                    .unwrap_or(now)
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .date();
                date.to_string()
            }
            "feature" => FEATURES[r.usize(..FEATURES.len())].to_owned(),
            "screen" => SCREENS[r.usize(..SCREENS.len())].to_owned(),
            "kind" => if r.u8(0..4) == 0 { "button" } else { "motion" }.to_owned(),
            "zone" => ["path", "door", "drive"][r.usize(..3)].to_owned(),
            "room" => {
                ["kitchen", "living room", "hall", "bedroom", "study"][r.usize(..5)].to_owned()
            }
            n if n.contains("transcript") => REQUESTS[r.usize(..REQUESTS.len())].to_owned(),
            n if n.contains("install") || n.ends_with("_id") => {
                let hex = |r: &mut fastrand::Rng, k: usize| -> String {
                    (0..k).map(|_| r.digit(16)).collect()
                };
                format!(
                    "{}-{}-{}-{}-{}",
                    hex(r, 8),
                    hex(r, 4),
                    hex(r, 4),
                    hex(r, 4),
                    hex(r, 12)
                )
            }
            n if n.contains("code") => format!("E{:03}", r.u16(1..=250)),
            // Media (audio, images, clips) travel as short encoded references here: a real
            // device would upload the media and send its handle.
            n if n.contains("audio")
                || n.contains("recording")
                || n.contains("snapshot")
                || n.contains("clip")
                || n.contains("image") =>
            {
                let len = r.usize(48..96);
                (0..len).map(|_| char::from(B64[r.usize(..64)])).collect()
            }
            _ => WORDS[r.usize(..WORDS.len())].to_owned(),
        }
    }

    /// A point within about `spread` steps of ~100 m from home.
    fn location(&mut self, spread: u32) -> Value {
        let step = 0.001 * f64::from(spread.max(1));
        let lat = self.home.0 + self.between(-step, step);
        let lon = self.home.1 + self.between(-step, step);
        json!({
            "lat": (lat * 1e6).round() / 1e6,
            "lon": (lon * 1e6).round() / 1e6,
            "accuracy": self.rng.u8(3..=25),
        })
    }

    /// A run: a few points walking away from home.
    fn route(&mut self) -> Value {
        let n = self.rng.usize(3..9);
        Value::Array(
            (0..n)
                .map(|i| self.location(u32::try_from(i).unwrap_or(0) + 1))
                .collect(),
        )
    }
}

/// A JSON number from a finite float (non-finite values become 0).
fn number(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::from(0), Value::Number)
}
