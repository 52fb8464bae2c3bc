//! The search's optional filters beyond place, job and contract type: experience,
//! qualification, sector, contract nature, full time, region, adapted company and a
//! minimum salary. Each has the values the API takes and a check that refuses any other
//! with a message saying what is allowed (the command line's value parsers). Pure code.

use serde::{Deserialize, Serialize};

/// The contract natures France Travail knows (`natureContrat`), code and label as its
/// `referentiel/naturesContrats` gives them; an offer's `natureContrat` is the label.
pub const NATURES: &[(&str, &str)] = &[
    ("E1", "Contrat travail"),
    ("E2", "Contrat apprentissage"),
    ("FA", "Act. Formation pré.recrut."),
    ("FJ", "Contrat pacte"),
    ("FS", "Cont. professionnalisation"),
    ("FT", "CUI - CAE"),
    ("FU", "CUI - CIE"),
    ("FV", "Prépa.opérationnel.emploi"),
    ("FW", "Emploi Avenir non marchand"),
    ("FX", "Emploi Avenir marchand"),
    ("FY", "Emploi Avenir Professeur"),
    ("I1", "Insertion par l'activ.éco."),
    ("NS", "Emploi non salarié"),
    ("PS", "Portage salarial"),
    ("PR", "Contrat PrAB"),
    ("CC", "CDI de chantier ou d'opération"),
    ("CU", "Contrat d'usage"),
    ("EE", "Contrat d'Engagement Educatif"),
    ("ER", "Engagement à servir dans la réserve"),
    ("CI", "Contrat intermittent"),
];

/// The regions (INSEE codes since 2016) `region` takes.
pub const REGIONS: &[(&str, &str)] = &[
    ("01", "Guadeloupe"),
    ("02", "Martinique"),
    ("03", "Guyane"),
    ("04", "La Réunion"),
    ("06", "Mayotte"),
    ("11", "Île-de-France"),
    ("24", "Centre-Val de Loire"),
    ("27", "Bourgogne-Franche-Comté"),
    ("28", "Normandie"),
    ("32", "Hauts-de-France"),
    ("44", "Grand Est"),
    ("52", "Pays de la Loire"),
    ("53", "Bretagne"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("84", "Auvergne-Rhône-Alpes"),
    ("93", "Provence-Alpes-Côte d'Azur"),
    ("94", "Corse"),
];

/// What a salary is counted by (`periodeSalaire`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SalaryPeriod {
    /// `M`: a month.
    #[serde(rename = "M")]
    Month,
    /// `A`: a year.
    #[serde(rename = "A")]
    Year,
    /// `H`: an hour.
    #[serde(rename = "H")]
    Hour,
    /// `C`: a fee per engagement (cachet).
    #[serde(rename = "C")]
    Fee,
}

impl SalaryPeriod {
    /// The code the API reads (`M`, `A`, `H`, `C`).
    pub fn code(self) -> &'static str {
        match self {
            SalaryPeriod::Month => "M",
            SalaryPeriod::Year => "A",
            SalaryPeriod::Hour => "H",
            SalaryPeriod::Fee => "C",
        }
    }

    /// The period of a code, case ignored.
    pub fn from_code(code: &str) -> Option<SalaryPeriod> {
        match code.trim().to_ascii_uppercase().as_str() {
            "M" => Some(SalaryPeriod::Month),
            "A" => Some(SalaryPeriod::Year),
            "H" => Some(SalaryPeriod::Hour),
            "C" => Some(SalaryPeriod::Fee),
            _ => None,
        }
    }
}

/// The least salary wanted (`salaireMin`, which the API takes only with `periodeSalaire`):
/// both in one value, so neither goes without the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinSalary {
    /// Whole euros per `period`.
    pub amount: u32,
    pub period: SalaryPeriod,
}

/// `experience`: 1 (less than a year), 2 (one to three years), 3 (more).
pub fn experience(s: &str) -> Result<u8, String> {
    match s.trim() {
        "1" => Ok(1),
        "2" => Ok(2),
        "3" => Ok(3),
        _ => Err(
            "must be 1 (less than a year of experience), 2 (one to three years) or 3 (more)"
                .to_owned(),
        ),
    }
}

/// `qualification`: 0 (not an executive) or 9 (executive).
pub fn qualification(s: &str) -> Result<u8, String> {
    match s.trim() {
        "0" => Ok(0),
        "9" => Ok(9),
        _ => Err("must be 0 (not an executive position) or 9 (executive: cadre)".to_owned()),
    }
}

/// `secteurActivite`: a NAF division, two digits (`56`: food and beverage service).
pub fn sector_code(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("must be a NAF division: two digits, e.g. 56 (food and beverage service)".to_owned())
    }
}

/// `natureContrat`: one of [`NATURES`]' codes, case ignored.
pub fn contract_nature(s: &str) -> Result<String, String> {
    let code = s.trim().to_ascii_uppercase();
    if NATURES.iter().any(|(c, _)| *c == code) {
        return Ok(code);
    }
    let known: Vec<String> = NATURES.iter().map(|(c, l)| format!("{c} ({l})")).collect();
    Err(format!(
        "must be the code of a contract nature: {}",
        known.join(", ")
    ))
}

/// `region`: one of [`REGIONS`]' codes.
pub fn region(s: &str) -> Result<String, String> {
    let s = s.trim();
    if REGIONS.iter().any(|(c, _)| *c == s) {
        return Ok(s.to_owned());
    }
    let known: Vec<String> = REGIONS.iter().map(|(c, n)| format!("{c} {n}")).collect();
    Err(format!(
        "must be the two-digit INSEE code of a region: {}",
        known.join(", ")
    ))
}

/// `tempsPlein`, `entrepriseAdaptee`: true or false (yes and no too).
pub fn yes_no(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

/// `salaireMin`: whole euros, 1 or more.
pub fn salary_amount(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("must be a whole number of euros, 1 or more".to_owned()),
    }
}

/// `periodeSalaire`: M (a month), A (a year), H (an hour) or C (a fee per engagement).
pub fn salary_period(s: &str) -> Result<SalaryPeriod, String> {
    SalaryPeriod::from_code(s).ok_or_else(|| {
        "must be M (monthly), A (yearly), H (hourly) or C (a fee per engagement: cachet)".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_values_the_api_takes_pass() {
        assert_eq!(experience(" 2 "), Ok(2));
        for bad in ["0", "4", "D", ""] {
            assert!(experience(bad).is_err(), "{bad:?}");
        }
        assert_eq!((qualification("0"), qualification("9")), (Ok(0), Ok(9)));
        assert!(
            qualification("5")
                .expect_err("5")
                .contains("0 (not an executive")
        );
        assert_eq!(sector_code("56"), Ok("56".to_owned()));
        for bad in ["5", "567", "5a", "56.10"] {
            assert!(sector_code(bad).is_err(), "{bad:?}");
        }
        assert_eq!(contract_nature("fs"), Ok("FS".to_owned()));
        let err = contract_nature("E3").expect_err("E3");
        assert!(err.contains("E1 (Contrat travail)"), "{err}");
        assert_eq!(region("11"), Ok("11".to_owned()));
        let err = region("12").expect_err("12");
        assert!(
            err.contains("11 Île-de-France") && err.contains("94 Corse"),
            "{err}"
        );
        assert_eq!((yes_no("TRUE"), yes_no("no")), (Ok(true), Ok(false)));
        assert!(yes_no("1").is_err());
        assert_eq!(salary_amount("1800"), Ok(1800));
        for bad in ["0", "-5", "1800.50", "lots"] {
            assert!(salary_amount(bad).is_err(), "{bad:?}");
        }
        assert_eq!(salary_period("a"), Ok(SalaryPeriod::Year));
        assert!(salary_period("Y").is_err());
        for p in [
            SalaryPeriod::Month,
            SalaryPeriod::Year,
            SalaryPeriod::Hour,
            SalaryPeriod::Fee,
        ] {
            assert_eq!(SalaryPeriod::from_code(p.code()), Some(p));
        }
    }
}
