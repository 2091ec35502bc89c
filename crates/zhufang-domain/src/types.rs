//! Value types that are parsed once at the edge and trusted afterwards.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a raw value was rejected. `message` is Chinese, shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValueError {
    pub field: &'static str,
    pub message: &'static str,
}

impl ValueError {
    pub fn new(field: &'static str, message: &'static str) -> Self {
        Self { field, message }
    }
}

/// A login name: 2–32 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok_len = (2..=32).contains(&s.len());
        let ok_chars = s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        let ok_first = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if ok_len && ok_chars && ok_first {
            Ok(Self(s))
        } else {
            Err(ValueError::new("username", "用户名须为2至32位小写字母、数字或 . _ -，且以字母或数字开头"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Username {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Username::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A Chinese phone number: an 11-digit mobile (1[3-9]xxxxxxxxx) or a landline
/// of 7–12 digits with an optional area code (0791-8888888). Stored digits only
/// plus the dash of a landline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let s = s.strip_prefix("+86").unwrap_or(&s).to_string();
        let bytes = s.as_bytes();
        let mobile = bytes.len() == 11
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1])
            && bytes.iter().all(u8::is_ascii_digit);
        let landline = {
            let (area, local) = match s.split_once('-') {
                Some((a, l)) => (Some(a), l),
                None => (None, s.as_str()),
            };
            let area_ok = area.is_none_or(|a| {
                (3..=4).contains(&a.len()) && a.starts_with('0') && a.bytes().all(|b| b.is_ascii_digit())
            });
            area_ok
                && (7..=8).contains(&local.len())
                && local.bytes().all(|b| b.is_ascii_digit())
                && !local.starts_with('0')
        };
        if mobile || landline {
            Ok(Self(s))
        } else {
            Err(ValueError::new("phone", "电话号码格式不正确（11位手机号或带区号的固定电话）"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form shown by default: `138****5678`, `0791-****888`.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks any stored phone string, keeping the first three and last four
/// characters of an 11-digit mobile, the area code and last three of a landline.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if let Some(pos) = s.find('-') {
        let area = &s[..pos];
        let local: Vec<char> = s[pos + 1..].chars().collect();
        let keep = local.len().min(3);
        let tail: String = local[local.len() - keep..].iter().collect();
        return format!("{area}-{}{tail}", "*".repeat(local.len() - keep));
    }
    if chars.len() >= 7 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
    } else {
        "*".repeat(chars.len())
    }
}

/// A resident identity card number (GB 11643): 17 digits and a check
/// character (0–9 or X), with a real date of birth. Only stored where a
/// deployment turns the field on; shown masked (`3602**********123X`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let s: String = raw.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let shape =
            b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) && (b[17].is_ascii_digit() || b[17] == b'X');
        if !shape {
            return Err(ValueError::new("id_number", "身份证号须为18位（最后一位可为X）"));
        }
        let birth = chrono::NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").ok();
        if birth.is_none_or(|d| d.year() < 1900) {
            return Err(ValueError::new("id_number", "身份证号中的出生日期不正确"));
        }
        if b[17] != Self::check_char(&b[..17]) {
            return Err(ValueError::new("id_number", "身份证号校验位不正确"));
        }
        Ok(Self(s))
    }

    /// The check character of the first 17 digits (ISO 7064 MOD 11-2).
    pub fn check_char(first17: &[u8]) -> u8 {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = first17.iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
        b"10X98765432"[(sum % 11) as usize]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

/// Masks a stored ID number: the first four and last four characters stay.
pub fn mask_id_number(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() <= 8 {
        return "*".repeat(c.len());
    }
    format!(
        "{}{}{}",
        c[..4].iter().collect::<String>(),
        "*".repeat(c.len() - 8),
        c[c.len() - 4..].iter().collect::<String>()
    )
}

/// Masks a person's name: 张三 → 张*, 欧阳娜娜 → 欧***.
pub fn mask_name(s: &str) -> String {
    let mut it = s.chars();
    match it.next() {
        Some(first) => {
            let rest = it.count();
            format!("{first}{}", "*".repeat(rest.max(1)))
        }
        None => String::new(),
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PhoneNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A point in WGS-84 / CGCS2000 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Wgs84Point {
    lat: f64,
    lon: f64,
}

impl Wgs84Point {
    pub fn new(lat: f64, lon: f64) -> Result<Self, ValueError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ValueError::new("location.lat", "纬度须在 -90 至 90 之间"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValueError::new("location.lon", "经度须在 -180 至 180 之间"));
        }
        Ok(Self { lat, lon })
    }
    pub fn lat(&self) -> f64 {
        self.lat
    }
    pub fn lon(&self) -> f64 {
        self.lon
    }
}

impl<'de> Deserialize<'de> for Wgs84Point {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            lat: f64,
            lon: f64,
        }
        let r = Raw::deserialize(d)?;
        Wgs84Point::new(r.lat, r.lon).map_err(serde::de::Error::custom)
    }
}

/// An organisation unit code: 2–24 characters of ASCII letters, digits or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let s = raw.trim();
        if (2..=24).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            Ok(Self(s.to_string()))
        } else {
            Err(ValueError::new("org_unit", "单位编码须为2至24位字母、数字或 -"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for OrgCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OrgCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A password that satisfies the policy: 8–128 characters with at least one
/// letter and one digit. Demo accounts are created by the seeder directly.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let n = raw.chars().count();
        let letter = raw.chars().any(|c| c.is_alphabetic());
        let digit = raw.chars().any(|c| c.is_ascii_digit());
        if (8..=128).contains(&n) && letter && digit {
            Ok(Self(raw.to_string()))
        } else {
            Err(ValueError::new("new_password", "新密码须为8至128位，且同时包含字母和数字"))
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phone_masks() {
        assert_eq!(PhoneNumber::parse("13812345678").unwrap().masked(), "138****5678");
        assert_eq!(PhoneNumber::parse("+86 138 1234 5678").unwrap().as_str(), "13812345678");
        assert_eq!(PhoneNumber::parse("0791-8888123").unwrap().masked(), "0791-****123");
        assert!(PhoneNumber::parse("12345").is_err());
        assert!(PhoneNumber::parse("12812345678").is_err());
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
    }

    #[test]
    fn id_numbers() {
        // a well-known public test number (GB 11643 example)
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.masked(), "1101**********002X");
        assert!(IdNumber::parse("110105194912310021").is_err(), "check character");
        assert!(IdNumber::parse("110105194913310028").is_err(), "month 13");
        assert!(IdNumber::parse("11010519491231002").is_err(), "17 characters");
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("S1.Leader").unwrap().as_str(), "s1.leader");
        assert!(Username::parse(".x").is_err());
        assert!(Username::parse("张三").is_err());
    }

    proptest! {
        /// A number built with its check character parses back to itself; any
        /// single changed digit is refused (the check catches it).
        #[test]
        fn id_number_check(area in 110000u32..660000, y in 1900i32..2020, m in 1u32..=12, d in 1u32..=28, seq in 0u32..1000, pos in 0usize..17, delta in 1u8..10) {
            let first = format!("{area:06}{y:04}{m:02}{d:02}{seq:03}");
            let full = format!("{first}{}", IdNumber::check_char(first.as_bytes()) as char);
            let parsed = IdNumber::parse(&full).unwrap();
            prop_assert_eq!(parsed.as_str(), full.as_str());
            let mut b = full.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert!(IdNumber::parse(&String::from_utf8(b).unwrap()).is_err());
        }

        #[test]
        fn id_number_never_panics(s in "\\PC{0,24}") {
            let _ = IdNumber::parse(&s);
        }

        #[test]
        fn mobile_roundtrip(d in "1[3-9][0-9]{9}") {
            let p = PhoneNumber::parse(&d).unwrap();
            prop_assert_eq!(p.as_str(), d.as_str());
            let m = p.masked();
            prop_assert_eq!(m.chars().count(), 11);
            prop_assert!(m.contains("****"));
            prop_assert_eq!(&m[7..], &d[7..]);
        }

        #[test]
        fn phone_parse_never_panics(s in "\\PC{0,30}") {
            let _ = PhoneNumber::parse(&s);
        }

        #[test]
        fn username_parse_is_idempotent(s in "[A-Za-z0-9._-]{0,40}") {
            if let Ok(u) = Username::parse(&s) {
                prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u);
            }
        }

        #[test]
        fn points_in_range(lat in -100.0f64..100.0, lon in -200.0f64..200.0) {
            let ok = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
            prop_assert_eq!(Wgs84Point::new(lat, lon).is_ok(), ok);
        }
    }
}
