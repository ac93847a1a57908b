//! Step-up reverification, decided as Clerk decides it (`checkReverificationAuthorization` in
//! `@clerk/shared`, as pinned by `@clerk/backend` 3.25.0): a session token's `fva` holds the
//! minutes since the user last verified their first and second factor (`-1`: never), and a
//! sensitive action asks for one of Clerk's presets or its own level and age.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Which factors a reverification asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    FirstFactor,
    SecondFactor,
    MultiFactor,
}

/// What a sensitive action asks for: one of Clerk's presets, or a level and an age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reverification {
    /// The second factor (or the first, for users without one) within 10 minutes.
    Strict,
    /// Within an hour.
    Moderate,
    /// Within a day.
    Lax,
    /// Both factors within 10 minutes (the first alone for users without a second).
    StrictMfa,
    Custom {
        level: Level,
        after_minutes: u32,
    },
}

impl Reverification {
    /// The level and the age limit in minutes (Clerk's `TYPES_TO_OBJECTS`).
    pub fn requirement(self) -> (Level, f64) {
        match self {
            Self::Strict => (Level::SecondFactor, 10.0),
            Self::Moderate => (Level::SecondFactor, 60.0),
            Self::Lax => (Level::SecondFactor, 1440.0),
            Self::StrictMfa => (Level::MultiFactor, 10.0),
            Self::Custom { level, after_minutes } => (level, f64::from(after_minutes)),
        }
    }

    /// Whether a session whose factors were verified `fva` minutes ago meets it.
    pub fn is_met_by(self, fva: Option<[f64; 2]>) -> bool {
        let Some([first, second]) = fva else { return false };
        let (level, after) = self.requirement();
        if after <= 0.0 || (first == -1.0 && second == -1.0) {
            return false;
        }
        let fresh = |age: f64| age != -1.0 && after > age;
        match level {
            Level::FirstFactor => fresh(first),
            Level::SecondFactor if second == -1.0 => fresh(first),
            Level::SecondFactor => fresh(second),
            Level::MultiFactor if second == -1.0 => fresh(first),
            Level::MultiFactor => first != -1.0 && fresh(first) && fresh(second),
        }
    }

    /// As Clerk names it: the preset's name, or `{"level", "afterMinutes"}`.
    pub fn config(self) -> Value {
        match self {
            Self::Strict => json!("strict"),
            Self::Moderate => json!("moderate"),
            Self::Lax => json!("lax"),
            Self::StrictMfa => json!("strict_mfa"),
            Self::Custom { level, after_minutes } => json!({ "level": level, "afterMinutes": after_minutes }),
        }
    }

    /// Clerk's 403 body when it is not met.
    pub fn error_body(self) -> Value {
        error_body(self.config())
    }
}

/// Clerk's 403 body for a missing reverification (`reverificationError` in `@clerk/shared`):
/// ClerkJS opens its reverification flow on it. `config` is [`Reverification::config`].
pub fn error_body(config: Value) -> Value {
    json!({ "clerk_error": { "type": "forbidden", "reason": "reverification-error", "metadata": { "reverification": config } } })
}

impl std::str::FromStr for Reverification {
    type Err = crate::invalid_value::InvalidValue;

    /// One of Clerk's preset names.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "strict" => Ok(Self::Strict),
            "moderate" => Ok(Self::Moderate),
            "lax" => Ok(Self::Lax),
            "strict_mfa" => Ok(Self::StrictMfa),
            other => Err(crate::invalid_value::InvalidValue::new(format!(
                "{other:?} is not one of strict, moderate, lax, strict_mfa"
            ))),
        }
    }
}

/// `fva` as Clerk accepts it: two finite numbers, each `-1` or at least `0`; anything else is
/// no verification at all.
pub fn parse_fva(value: &Value) -> Option<[f64; 2]> {
    let [first, second] = value.as_array()?.as_slice() else { return None };
    let age = |v: &Value| v.as_f64().filter(|a| a.is_finite() && (*a == -1.0 || *a >= 0.0));
    Some([age(first)?, age(second)?])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn presets_follow_clerks_rules() {
        use Reverification::*;
        let cases: [([f64; 2], [bool; 4]); 7] = [
            // [strict, moderate, lax, strict_mfa]
            ([5.0, -1.0], [true, true, true, true]),
            ([30.0, -1.0], [false, true, true, false]),
            ([30.0, 5.0], [true, true, true, false]),
            ([5.0, 30.0], [false, true, true, false]),
            ([-1.0, 5.0], [true, true, true, false]),
            ([2000.0, 2000.0], [false, false, false, false]),
            ([-1.0, -1.0], [false, false, false, false]),
        ];
        for (fva, expected) in cases {
            let got = [Strict, Moderate, Lax, StrictMfa].map(|r| r.is_met_by(Some(fva)));
            assert_eq!(got, expected, "{fva:?}");
        }
        assert!(!Strict.is_met_by(None));
        let custom = Custom { level: Level::FirstFactor, after_minutes: 5 };
        assert!(!custom.is_met_by(Some([5.0, -1.0])), "strictly less than the limit");
        assert!(Custom { level: Level::FirstFactor, after_minutes: 6 }.is_met_by(Some([5.0, -1.0])));
    }

    #[test]
    fn fva_must_be_two_valid_ages() {
        assert_eq!(parse_fva(&json!([0, -1])), Some([0.0, -1.0]));
        assert_eq!(parse_fva(&json!([1.5, 2])), Some([1.5, 2.0]));
        for bad in [json!([1]), json!([1, 2, 3]), json!([-2, 0]), json!(["1", 0]), json!(null), json!({})] {
            assert_eq!(parse_fva(&bad), None, "{bad}");
        }
    }

    #[test]
    fn the_error_body_is_clerks() {
        assert_eq!(
            Reverification::Strict.error_body(),
            json!({ "clerk_error": { "type": "forbidden", "reason": "reverification-error",
                "metadata": { "reverification": "strict" } } })
        );
        let custom = Reverification::Custom { level: Level::MultiFactor, after_minutes: 30 };
        assert_eq!(
            custom.error_body()["clerk_error"]["metadata"]["reverification"],
            json!({ "level": "multi_factor", "afterMinutes": 30 })
        );
    }
}
