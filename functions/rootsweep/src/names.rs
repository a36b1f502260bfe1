//! One name table per enum: the text that serde, the report table, CSV, metrics and tests all
//! use for each variant comes from the single `name => "text"` list the enum is declared with.

/// Declares a field-less enum with its name table: `as_str`, `ALL`, `Display`, `FromStr`, and
/// serde as those names.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The variant's name in reports, metrics and configuration.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::names::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::names::UnknownName {
                        value: s.to_owned(),
                        allowed: Self::ALL.iter().map(|v| v.as_str()).collect(),
                    })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use named_enum;

/// A name that is not in an enum's table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not one of: {}", allowed.join(", "))]
pub struct UnknownName {
    pub value: String,
    pub allowed: Vec<&'static str>,
}

/// `in_grace` -> `InGrace`: metric names and dimension values from the same table.
pub fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    named_enum! {
        pub enum Colour { Red => "red", DarkBlue => "dark_blue" }
    }

    #[test]
    fn one_table_serves_text_parsing_and_serde() {
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        assert_eq!("red".parse::<Colour>(), Ok(Colour::Red));
        let err = "green".parse::<Colour>().unwrap_err();
        assert_eq!(err.to_string(), "\"green\" is not one of: red, dark_blue");
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).unwrap(),
            "\"dark_blue\""
        );
        let back: Colour = serde_json::from_str("\"dark_blue\"").unwrap();
        assert_eq!(back, Colour::DarkBlue);
        assert_eq!(camel_case(Colour::DarkBlue.as_str()), "DarkBlue");
    }
}
