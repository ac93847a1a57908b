//! Why a value someone configured was refused, in one sentence for the operator: the config
//! loader puts the variable's name in front (`ConfigError`), the CLI the flag's. It imports
//! nothing of this crate.

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(String);

impl InvalidValue {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl From<InvalidValue> for String {
    fn from(value: InvalidValue) -> Self {
        value.0
    }
}
