//! The sandbox's France Travail offers: computed once from the seed into a compact table
//! (a few dozen bytes an offer, in the API's order), their JSON written on demand, with
//! the places (communes with coordinates) and the ROME jobs they are drawn from.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::data::mix;
pub use crate::france_travail::filters::NATURES;

/// Offers served by default.
pub const DEFAULT_OFFERS: usize = 20_000;
/// Creation dates spread over this many days before the anchor.
pub const SPAN_DAYS: i64 = 90;

/// A département: code, name, region code, share of the offers.
pub struct Departement {
    pub code: &'static str,
    pub name: &'static str,
    pub region: &'static str,
    weight: u64,
}

const fn dep(
    code: &'static str,
    name: &'static str,
    region: &'static str,
    weight: u64,
) -> Departement {
    Departement {
        code,
        name,
        region,
        weight,
    }
}

/// The départements offers are spread over (Paris alone holds more than 3,150 of the
/// default 20,000, so that a query on it must be split by creation date).
pub const DEPARTEMENTS: &[Departement] = &[
    dep("75", "Paris", "11", 22),
    dep("13", "Bouches-du-Rhône", "93", 9),
    dep("69", "Rhône", "84", 9),
    dep("59", "Nord", "32", 8),
    dep("31", "Haute-Garonne", "76", 7),
    dep("33", "Gironde", "75", 7),
    dep("44", "Loire-Atlantique", "52", 7),
    dep("67", "Bas-Rhin", "44", 6),
    dep("06", "Alpes-Maritimes", "93", 6),
    dep("34", "Hérault", "76", 6),
    dep("35", "Ille-et-Vilaine", "53", 6),
    dep("971", "Guadeloupe", "01", 3),
    dep("2A", "Corse-du-Sud", "94", 2),
];

/// A commune: INSEE code, name, postal code, département code, coordinates, weight
/// within its département.
pub struct Commune {
    pub insee: &'static str,
    pub name: &'static str,
    pub postal: &'static str,
    pub dep: &'static str,
    pub lat: f64,
    pub lon: f64,
    weight: u64,
}

const fn com(
    insee: &'static str,
    name: &'static str,
    postal: &'static str,
    dep: &'static str,
    lat: f64,
    lon: f64,
    weight: u64,
) -> Commune {
    Commune {
        insee,
        name,
        postal,
        dep,
        lat,
        lon,
        weight,
    }
}

/// Every commune offers are placed in. `75056` (Paris) also stands for its 20
/// arrondissements in a `commune` search.
#[rustfmt::skip]
pub const COMMUNES: &[Commune] = &[
    com("75101", "Paris 1er Arrondissement", "75001", "75", 48.8626, 2.3363, 5),
    com("75102", "Paris 2e Arrondissement", "75002", "75", 48.8683, 2.3428, 5),
    com("75103", "Paris 3e Arrondissement", "75003", "75", 48.8630, 2.3601, 5),
    com("75104", "Paris 4e Arrondissement", "75004", "75", 48.8543, 2.3576, 5),
    com("75105", "Paris 5e Arrondissement", "75005", "75", 48.8445, 2.3507, 5),
    com("75106", "Paris 6e Arrondissement", "75006", "75", 48.8491, 2.3328, 5),
    com("75107", "Paris 7e Arrondissement", "75007", "75", 48.8562, 2.3122, 5),
    com("75108", "Paris 8e Arrondissement", "75008", "75", 48.8727, 2.3125, 8),
    com("75109", "Paris 9e Arrondissement", "75009", "75", 48.8770, 2.3375, 6),
    com("75110", "Paris 10e Arrondissement", "75010", "75", 48.8761, 2.3608, 5),
    com("75111", "Paris 11e Arrondissement", "75011", "75", 48.8591, 2.3800, 6),
    com("75112", "Paris 12e Arrondissement", "75012", "75", 48.8350, 2.4213, 5),
    com("75113", "Paris 13e Arrondissement", "75013", "75", 48.8283, 2.3623, 5),
    com("75114", "Paris 14e Arrondissement", "75014", "75", 48.8292, 2.3266, 5),
    com("75115", "Paris 15e Arrondissement", "75015", "75", 48.8401, 2.2935, 7),
    com("75116", "Paris 16e Arrondissement", "75016", "75", 48.8604, 2.2620, 5),
    com("75117", "Paris 17e Arrondissement", "75017", "75", 48.8873, 2.3067, 5),
    com("75118", "Paris 18e Arrondissement", "75018", "75", 48.8925, 2.3484, 5),
    com("75119", "Paris 19e Arrondissement", "75019", "75", 48.8871, 2.3848, 4),
    com("75120", "Paris 20e Arrondissement", "75020", "75", 48.8634, 2.4011, 4),
    com("75056", "Paris", "75000", "75", 48.8566, 2.3522, 3),
    com("13055", "Marseille", "13001", "13", 43.2965, 5.3698, 10),
    com("13001", "Aix-en-Provence", "13100", "13", 43.5297, 5.4474, 4),
    com("13005", "Aubagne", "13400", "13", 43.2927, 5.5708, 2),
    com("13004", "Arles", "13200", "13", 43.6766, 4.6278, 2),
    com("13056", "Martigues", "13500", "13", 43.4053, 5.0476, 2),
    com("69123", "Lyon", "69001", "69", 45.7640, 4.8357, 10),
    com("69266", "Villeurbanne", "69100", "69", 45.7719, 4.8902, 4),
    com("69259", "Vénissieux", "69200", "69", 45.6975, 4.8867, 2),
    com("69034", "Caluire-et-Cuire", "69300", "69", 45.7953, 4.8467, 2),
    com("59350", "Lille", "59000", "59", 50.6292, 3.0573, 10),
    com("59512", "Roubaix", "59100", "59", 50.6942, 3.1746, 3),
    com("59599", "Tourcoing", "59200", "59", 50.7239, 3.1612, 3),
    com("59183", "Dunkerque", "59140", "59", 51.0343, 2.3768, 3),
    com("59009", "Villeneuve-d'Ascq", "59650", "59", 50.6233, 3.1450, 2),
    com("31555", "Toulouse", "31000", "31", 43.6047, 1.4442, 10),
    com("31149", "Colomiers", "31770", "31", 43.6116, 1.3350, 2),
    com("31069", "Blagnac", "31700", "31", 43.6370, 1.3900, 3),
    com("31395", "Muret", "31600", "31", 43.4617, 1.3270, 1),
    com("33063", "Bordeaux", "33000", "33", 44.8378, -0.5792, 10),
    com("33281", "Mérignac", "33700", "33", 44.8386, -0.6436, 3),
    com("33318", "Pessac", "33600", "33", 44.8067, -0.6311, 2),
    com("33243", "Libourne", "33500", "33", 44.9153, -0.2439, 1),
    com("44109", "Nantes", "44000", "44", 47.2184, -1.5536, 10),
    com("44184", "Saint-Nazaire", "44600", "44", 47.2735, -2.2137, 3),
    com("44143", "Rezé", "44400", "44", 47.1833, -1.5500, 2),
    com("44162", "Saint-Herblain", "44800", "44", 47.2122, -1.6497, 2),
    com("67482", "Strasbourg", "67000", "67", 48.5734, 7.7521, 10),
    com("67180", "Haguenau", "67500", "67", 48.8156, 7.7906, 2),
    com("67447", "Schiltigheim", "67300", "67", 48.6056, 7.7497, 2),
    com("67462", "Sélestat", "67600", "67", 48.2596, 7.4542, 1),
    com("06088", "Nice", "06000", "06", 43.7102, 7.2620, 10),
    com("06029", "Cannes", "06400", "06", 43.5528, 7.0174, 3),
    com("06004", "Antibes", "06600", "06", 43.5808, 7.1251, 3),
    com("06069", "Grasse", "06130", "06", 43.6588, 6.9237, 1),
    com("34172", "Montpellier", "34000", "34", 43.6108, 3.8767, 10),
    com("34032", "Béziers", "34500", "34", 43.3442, 3.2158, 3),
    com("34301", "Sète", "34200", "34", 43.4028, 3.6967, 2),
    com("35238", "Rennes", "35000", "35", 48.1173, -1.6778, 10),
    com("35288", "Saint-Malo", "35400", "35", 48.6493, -2.0257, 3),
    com("35115", "Fougères", "35300", "35", 48.3524, -1.1943, 2),
    com("97120", "Pointe-à-Pitre", "97110", "971", 16.2411, -61.5331, 4),
    com("97101", "Les Abymes", "97139", "971", 16.2710, -61.5045, 3),
    com("97103", "Baie-Mahault", "97122", "971", 16.2674, -61.5854, 3),
    com("2A004", "Ajaccio", "20000", "2A", 41.9192, 8.7386, 4),
    com("2A247", "Porto-Vecchio", "20137", "2A", 41.5912, 9.2795, 1),
];

/// How a ROME job is paid: per hour (cents), per month or per year (a range of euros).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pay {
    Hour(u32),
    Month(u32, u32),
    Year(u32, u32),
}

/// Hours in a month of full-time work (35 h a week), to compare hourly pay.
pub const HOURS_A_MONTH: f64 = 151.67;

impl Pay {
    /// The most it pays, in euros a month (hourly pay over [`HOURS_A_MONTH`], yearly
    /// pay over 12 months).
    pub fn monthly_top(self) -> f64 {
        match self {
            Pay::Hour(cents) => f64::from(cents) / 100.0 * HOURS_A_MONTH,
            Pay::Month(_, hi) => f64::from(hi),
            Pay::Year(_, hi) => f64::from(hi) / 12.0,
        }
    }

    /// `salaire.libelle` as the API words it.
    fn libelle(self) -> String {
        match self {
            Pay::Hour(c) => format!("Horaire de {},{:02} Euros sur 12 mois", c / 100, c % 100),
            Pay::Month(lo, hi) => format!("Mensuel de {lo},00 Euros à {hi},00 Euros sur 12 mois"),
            Pay::Year(lo, hi) => format!("Annuel de {lo},00 Euros à {hi},00 Euros sur 12 mois"),
        }
    }
}

/// A ROME job: code, label, (offer title, appellation) pairs, skills, NAF (code,
/// division, label), qualification code, pay.
pub struct Rome {
    pub code: &'static str,
    pub libelle: &'static str,
    titles: &'static [(&'static str, &'static str)],
    skills: &'static [&'static str],
    naf: (&'static str, &'static str, &'static str),
    pub qualification: &'static str,
    pay: Pay,
}

impl Rome {
    /// The NAF division `secteurActivite` filters on (`56`).
    pub fn naf_division(&self) -> &'static str {
        self.naf.1
    }
}

/// The jobs offers are for, with titles and skills that fit them.
pub const ROMES: &[Rome] = &[
    Rome {
        code: "M1805",
        libelle: "Études et développement informatique",
        titles: &[
            ("Développeur web H/F", "Développeur / Développeuse web"),
            (
                "Développeur Java confirmé (H/F)",
                "Développeur / Développeuse informatique",
            ),
            (
                "Ingénieur d'études et développement",
                "Ingénieur / Ingénieure d'études et développement informatique",
            ),
            (
                "Développeur full-stack React / Node.js",
                "Développeur / Développeuse full-stack",
            ),
        ],
        skills: &[
            "Concevoir et développer des applications",
            "Rédiger des spécifications techniques",
            "Réaliser des tests unitaires",
            "Analyser les besoins du client",
            "Assurer la maintenance corrective d'une application",
            "Utiliser un langage de programmation",
            "Mettre en place une intégration continue",
        ],
        naf: ("62.01Z", "62", "Programmation informatique"),
        qualification: "9",
        pay: Pay::Year(38_000, 52_000),
    },
    Rome {
        code: "G1602",
        libelle: "Personnel de cuisine",
        titles: &[
            ("Cuisinier / Cuisinière (H/F)", "Cuisinier / Cuisinière"),
            ("Commis de cuisine H/F", "Commis de cuisine"),
            ("Chef de partie (H/F)", "Chef de partie"),
            ("Second de cuisine", "Second / Seconde de cuisine"),
        ],
        skills: &[
            "Préparer les produits culinaires",
            "Respecter les règles d'hygiène et de sécurité alimentaire",
            "Réaliser les mises en place",
            "Dresser les assiettes",
            "Contrôler la qualité des produits",
            "Nettoyer le poste de travail",
            "Élaborer des plats",
        ],
        naf: ("56.10A", "56", "Restauration traditionnelle"),
        qualification: "6",
        pay: Pay::Month(1_850, 2_300),
    },
    Rome {
        code: "K2204",
        libelle: "Nettoyage de locaux",
        titles: &[
            (
                "Agent d'entretien (H/F)",
                "Agent / Agente d'entretien de locaux",
            ),
            (
                "Agent de propreté et d'hygiène",
                "Agent / Agente de propreté et d'hygiène",
            ),
            ("Laveur de vitres H/F", "Laveur / Laveuse de vitres"),
        ],
        skills: &[
            "Nettoyer des locaux",
            "Entretenir les sols",
            "Vider les poubelles et trier les déchets",
            "Utiliser des produits d'entretien",
            "Désinfecter des surfaces",
            "Approvisionner les sanitaires",
        ],
        naf: ("81.21Z", "81", "Nettoyage courant des bâtiments"),
        qualification: "5",
        pay: Pay::Hour(1_188),
    },
    Rome {
        code: "J1501",
        libelle: "Soins d'hygiène, de confort du patient",
        titles: &[
            (
                "Aide-soignant / Aide-soignante (H/F)",
                "Aide-soignant / Aide-soignante",
            ),
            (
                "Aide-soignant de nuit H/F",
                "Aide-soignant / Aide-soignante",
            ),
            ("Auxiliaire de puériculture", "Auxiliaire de puériculture"),
        ],
        skills: &[
            "Réaliser les soins d'hygiène et de confort",
            "Surveiller l'état de santé du patient",
            "Aider à la prise des repas",
            "Transmettre les informations à l'équipe soignante",
            "Respecter les protocoles d'hygiène",
            "Installer le patient",
        ],
        naf: (
            "87.10A",
            "87",
            "Hébergement médicalisé pour personnes âgées",
        ),
        qualification: "6",
        pay: Pay::Month(1_900, 2_250),
    },
    Rome {
        code: "D1106",
        libelle: "Vente en alimentation",
        titles: &[
            (
                "Vendeur / Vendeuse en boulangerie-pâtisserie",
                "Vendeur / Vendeuse en boulangerie-pâtisserie",
            ),
            (
                "Vendeur en boucherie H/F",
                "Vendeur / Vendeuse en boucherie",
            ),
            (
                "Employé de commerce alimentaire (H/F)",
                "Vendeur / Vendeuse en alimentation générale",
            ),
            (
                "Vendeur fromager H/F",
                "Vendeur / Vendeuse en crèmerie-fromagerie",
            ),
        ],
        skills: &[
            "Accueillir et conseiller les clients",
            "Encaisser un paiement",
            "Mettre en rayon les produits",
            "Contrôler la fraîcheur des produits",
            "Tenir la caisse",
            "Réaliser l'emballage des produits",
        ],
        naf: (
            "47.24Z",
            "47",
            "Commerce de détail de pain, pâtisserie et confiserie en magasin spécialisé",
        ),
        qualification: "6",
        pay: Pay::Month(1_802, 1_950),
    },
    Rome {
        code: "N4105",
        libelle: "Conduite et livraison par tournées sur courte distance",
        titles: &[
            (
                "Chauffeur livreur (H/F)",
                "Chauffeur-livreur / Chauffeuse-livreuse",
            ),
            ("Livreur de colis H/F", "Livreur / Livreuse de colis"),
            (
                "Chauffeur livreur VL permis B",
                "Chauffeur-livreur / Chauffeuse-livreuse",
            ),
        ],
        skills: &[
            "Charger et décharger des marchandises",
            "Organiser une tournée de livraison",
            "Conduire un véhicule léger",
            "Vérifier la conformité de la livraison",
            "Renseigner les documents de livraison",
            "Encaisser le paiement à la livraison",
        ],
        naf: ("53.20Z", "53", "Autres activités de poste et de courrier"),
        qualification: "6",
        pay: Pay::Month(1_802, 2_100),
    },
    Rome {
        code: "H2913",
        libelle: "Soudage manuel",
        titles: &[
            ("Soudeur TIG / MIG (H/F)", "Soudeur / Soudeuse TIG"),
            ("Soudeur à l'arc H/F", "Soudeur / Soudeuse à l'arc"),
            (
                "Soudeur tuyauteur",
                "Soudeur-tuyauteur / Soudeuse-tuyauteuse",
            ),
        ],
        skills: &[
            "Lire un plan de fabrication",
            "Préparer les pièces à souder",
            "Souder des pièces par procédé TIG",
            "Souder des pièces par procédé MIG/MAG",
            "Contrôler la qualité des soudures",
            "Régler le poste de soudage",
        ],
        naf: (
            "25.11Z",
            "25",
            "Fabrication de structures métalliques et de parties de structures",
        ),
        qualification: "4",
        pay: Pay::Month(2_100, 2_700),
    },
    Rome {
        code: "M1607",
        libelle: "Secrétariat",
        titles: &[
            (
                "Secrétaire administratif (H/F)",
                "Secrétaire administratif / administrative",
            ),
            (
                "Assistant administratif H/F",
                "Assistant administratif / Assistante administrative",
            ),
            ("Secrétaire polyvalent(e)", "Secrétaire"),
        ],
        skills: &[
            "Accueillir et orienter le public",
            "Gérer un agenda",
            "Rédiger des courriers",
            "Classer des documents",
            "Saisir des documents",
            "Traiter le courrier",
        ],
        naf: ("82.11Z", "82", "Services administratifs combinés de bureau"),
        qualification: "6",
        pay: Pay::Month(1_850, 2_200),
    },
    Rome {
        code: "F1703",
        libelle: "Maçonnerie",
        titles: &[
            ("Maçon (H/F)", "Maçon / Maçonne"),
            ("Maçon VRD H/F", "Maçon / Maçonne VRD"),
            ("Chef d'équipe maçon", "Chef d'équipe maçon / maçonne"),
            ("Maçon coffreur", "Maçon coffreur / Maçonne coffreuse"),
        ],
        skills: &[
            "Lire un plan",
            "Monter des murs en parpaings",
            "Réaliser un coffrage",
            "Couler une dalle en béton",
            "Poser des éléments préfabriqués",
            "Respecter les règles de sécurité sur un chantier",
        ],
        naf: (
            "43.99C",
            "43",
            "Travaux de maçonnerie générale et gros œuvre de bâtiment",
        ),
        qualification: "3",
        pay: Pay::Month(2_000, 2_600),
    },
    Rome {
        code: "K1302",
        libelle: "Assistance auprès d'adultes",
        titles: &[
            ("Auxiliaire de vie (H/F)", "Auxiliaire de vie"),
            ("Aide à domicile H/F", "Aide à domicile"),
            (
                "Assistant de vie aux familles",
                "Assistant / Assistante de vie aux familles",
            ),
        ],
        skills: &[
            "Accompagner la personne dans les gestes de la vie quotidienne",
            "Préparer les repas",
            "Entretenir le logement",
            "Aider à la toilette",
            "Stimuler le maintien de l'autonomie",
            "Accompagner la personne dans ses déplacements",
        ],
        naf: ("88.10A", "88", "Aide à domicile"),
        qualification: "5",
        pay: Pay::Hour(1_215),
    },
    Rome {
        code: "I1304",
        libelle: "Installation et maintenance d'équipements industriels",
        titles: &[
            (
                "Technicien de maintenance industrielle (H/F)",
                "Technicien / Technicienne de maintenance industrielle",
            ),
            (
                "Électromécanicien H/F",
                "Électromécanicien / Électromécanicienne de maintenance industrielle",
            ),
            (
                "Agent de maintenance polyvalent",
                "Agent / Agente de maintenance industrielle",
            ),
        ],
        skills: &[
            "Diagnostiquer une panne",
            "Réaliser la maintenance préventive",
            "Remplacer des pièces défectueuses",
            "Lire un schéma électrique",
            "Régler des équipements industriels",
            "Renseigner la GMAO",
        ],
        naf: (
            "33.12Z",
            "33",
            "Réparation de machines et équipements mécaniques",
        ),
        qualification: "7",
        pay: Pay::Month(2_300, 2_900),
    },
    Rome {
        code: "M1203",
        libelle: "Comptabilité",
        titles: &[
            ("Comptable (H/F)", "Comptable"),
            ("Aide-comptable H/F", "Aide-comptable"),
            ("Comptable fournisseurs", "Comptable fournisseurs"),
            (
                "Assistant comptable (H/F)",
                "Assistant / Assistante comptable",
            ),
        ],
        skills: &[
            "Saisir des écritures comptables",
            "Réaliser des rapprochements bancaires",
            "Établir les déclarations de TVA",
            "Préparer le bilan",
            "Suivre la trésorerie",
            "Contrôler les factures",
        ],
        naf: ("69.20Z", "69", "Activités comptables"),
        qualification: "7",
        pay: Pay::Year(28_000, 36_000),
    },
    Rome {
        code: "G1603",
        libelle: "Personnel polyvalent en restauration",
        titles: &[
            (
                "Employé polyvalent de restauration (H/F)",
                "Employé / Employée polyvalent(e) de restauration",
            ),
            (
                "Équipier polyvalent H/F",
                "Équipier / Équipière polyvalent(e) de restauration rapide",
            ),
            (
                "Employé de restauration collective",
                "Employé / Employée de restauration collective",
            ),
        ],
        skills: &[
            "Préparer des plats simples",
            "Servir les clients au comptoir",
            "Nettoyer la salle et la cuisine",
            "Encaisser un paiement",
            "Réceptionner les livraisons",
            "Appliquer les normes HACCP",
        ],
        naf: ("56.10C", "56", "Restauration de type rapide"),
        qualification: "5",
        pay: Pay::Hour(1_188),
    },
    Rome {
        code: "E1103",
        libelle: "Communication",
        titles: &[
            (
                "Chargé de communication (H/F)",
                "Chargé / Chargée de communication",
            ),
            ("Community manager H/F", "Community manager"),
            (
                "Responsable communication",
                "Responsable de la communication",
            ),
        ],
        skills: &[
            "Élaborer un plan de communication",
            "Rédiger des contenus",
            "Animer les réseaux sociaux",
            "Organiser des événements",
            "Suivre les relations presse",
            "Analyser les retombées d'une campagne",
        ],
        naf: ("73.11Z", "73", "Activités des agences de publicité"),
        qualification: "9",
        pay: Pay::Year(32_000, 42_000),
    },
    Rome {
        code: "C1102",
        libelle: "Conseil clientèle en assurances",
        titles: &[
            (
                "Conseiller clientèle en assurances (H/F)",
                "Conseiller / Conseillère clientèle en assurances",
            ),
            (
                "Chargé de clientèle assurance H/F",
                "Chargé / Chargée de clientèle en assurances",
            ),
            (
                "Conseiller commercial assurance",
                "Conseiller commercial / Conseillère commerciale en assurances",
            ),
        ],
        skills: &[
            "Analyser les besoins du client",
            "Proposer des contrats d'assurance",
            "Gérer un portefeuille clients",
            "Traiter les déclarations de sinistre",
            "Conseiller le client sur les garanties",
            "Réaliser des actions de prospection",
        ],
        naf: (
            "66.22Z",
            "66",
            "Activités des agents et courtiers d'assurances",
        ),
        qualification: "6",
        pay: Pay::Year(26_000, 32_000),
    },
];

/// Contract types: code, label (a duration follows for all but CDI), share in percent.
pub const CONTRACTS: &[(&str, &str, u64)] = &[
    ("CDI", "Contrat à durée indéterminée", 50),
    ("CDD", "Contrat à durée déterminée", 30),
    ("MIS", "Mission intérimaire", 15),
    ("SAI", "Contrat travail saisonnier", 5),
];
/// `experienceExige` values.
pub const EXPERIENCES: &[&str] = &["D", "S", "E"];
const QUALIFICATIONS: &[(&str, &str)] = &[
    ("1", "Manœuvre"),
    ("2", "Ouvrier spécialisé"),
    ("3", "Ouvrier qualifié (P1,P2)"),
    ("4", "Ouvrier qualifié (P3,P4,OHQ)"),
    ("5", "Employé non qualifié"),
    ("6", "Employé qualifié"),
    ("7", "Technicien"),
    ("8", "Agent de maîtrise"),
    ("9", "Cadre"),
];
const COMPANIES: &[&str] = &[
    "Boulangerie Martin",
    "SARL Le Bon Goût",
    "Groupe Hospitalier Saint-Joseph",
    "Transports Durand et Fils",
    "Nettoyage Pro Services",
    "Atelier Métal Concept",
    "Cabinet Expertise & Conseil",
    "Domicile Services Plus",
    "Mutuelle Assurances de France",
    "Tech Solutions SAS",
    "Bâtiment Moderne",
    "Restaurant Chez Paul",
    "EHPAD Les Tilleuls",
    "Agence Com'Une",
];
const AGENCIES: &[&str] = &[
    "ADECCO",
    "RANDSTAD",
    "MANPOWER FRANCE",
    "PROMAN",
    "SYNERGIE",
];
const QUALITES: &[(&str, &str)] = &[
    (
        "Autonomie",
        "Capacité à prendre en charge son activité sans devoir être encadré de façon continue.",
    ),
    (
        "Travail en équipe",
        "Capacité à travailler avec d'autres personnes et à partager les informations.",
    ),
    (
        "Rigueur",
        "Capacité à respecter les règles, les procédures, les délais.",
    ),
    (
        "Sens de l'organisation",
        "Capacité à planifier, à prioriser ses activités.",
    ),
    (
        "Capacité d'adaptation",
        "Capacité à s'adapter à des situations variées.",
    ),
    (
        "Réactivité",
        "Capacité à agir et réagir rapidement dans des situations d'urgence.",
    ),
    (
        "Sens de la communication",
        "Capacité à transmettre un message et à écouter.",
    ),
];
/// `dureeTravailLibelle`, and whether it is full time (`dureeTravailLibelleConverti`:
/// `Temps plein` or `Temps partiel`, what `tempsPlein` filters on).
const WORK_TIMES: &[(&str, bool)] = &[
    ("35H Horaires normaux", true),
    ("39H Travail en journée", true),
    ("35H Travail en équipe", true),
    ("24H Horaires variables", false),
    ("20H Travail samedi et dimanche", false),
];
const PROFILES: &[&str] = &[
    "Vous êtes rigoureux(se) et appréciez le travail en équipe.",
    "Une première expérience sur un poste similaire est appréciée.",
    "Débutant(e) accepté(e) : une formation est assurée en interne.",
    "Vous justifiez d'une expérience réussie dans le métier.",
];
const CONDITIONS: &[&str] = &[
    "Poste à pourvoir immédiatement.",
    "Horaires du lundi au vendredi.",
    "Travail le week-end par roulement.",
    "Rémunération selon profil et expérience.",
    "Mutuelle d'entreprise et titres-restaurant.",
];
/// Fields France Travail added after UPSTREAM.md was written (a few offers carry one).
const EXTRA_FIELDS: &[(&str, &str)] = &[
    ("employeurHandiEngage", "true"),
    ("offresManqueCandidats", "true"),
    ("conditionExercice", "\"Travail en horaires décalés\""),
];

fn pick<T>(list: &[T], r: u64) -> &T {
    &list[(r % list.len() as u64) as usize]
}

/// Index into `weights` chosen by `r`, with weights as shares.
fn weighted(weights: impl Iterator<Item = u64> + Clone, r: u64) -> usize {
    let total: u64 = weights.clone().sum();
    let mut x = r % total.max(1);
    for (i, w) in weights.enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    0
}

/// Lower case without accents (`Développeur` → `developpeur`), what `motsCles` compares.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '’' => out.push('\''),
            '\u{300}'..='\u{36f}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `2026-11-20T10:15:32.000Z`.
pub fn api_datetime(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// One offer, as small as it can be: what searches filter and sort on, the rest is
/// computed from `n` and the seed when the JSON is written.
#[derive(Debug, Clone)]
pub struct Offer {
    pub id: [u8; 7],
    /// Generation index: seeds everything not stored here.
    n: u32,
    /// `dateCreation`, `dateActualisation`: Unix seconds.
    pub created: i64,
    pub updated: i64,
    /// Index into [`COMMUNES`], [`ROMES`], [`CONTRACTS`], [`EXPERIENCES`].
    pub commune: u16,
    pub rome: u8,
    title: u8,
    pub contract: u8,
    pub experience: u8,
    pub experience_years: u8,
    /// Mutations that changed this offer.
    version: u16,
}

impl Offer {
    pub fn id(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or_default()
    }

    /// The `experience` filter's value: 1 (beginners welcome), 2 (up to 3 years), 3.
    pub fn experience_level(&self) -> u8 {
        match (self.experience, self.experience_years) {
            (0, _) => 1,
            (_, 0..=3) => 2,
            _ => 3,
        }
    }
}

/// `filtresPossibles`: how the matches of a search spread over a few filters.
pub fn possible_filters(matches: &[&Offer]) -> Value {
    let mut contracts = vec![0usize; CONTRACTS.len()];
    let (mut experience, mut qualification) = ([0usize; 3], [0usize; 2]);
    for o in matches {
        contracts[o.contract as usize] += 1;
        experience[usize::from(o.experience_level() - 1)] += 1;
        qualification[usize::from(ROMES[o.rome as usize].qualification == "9")] += 1;
    }
    let agg = |values: Vec<(String, usize)>| -> Vec<Value> {
        values
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(v, n)| json!({ "valeurPossible": v, "nbResultats": n }))
            .collect()
    };
    let contracts = CONTRACTS
        .iter()
        .zip(contracts)
        .map(|(c, n)| (c.0.to_owned(), n));
    let experience = (1..=3).map(|k: u8| k.to_string()).zip(experience);
    let qualification = vec![
        ("0".into(), qualification[0]),
        ("9".into(), qualification[1]),
    ];
    json!([
        { "filtre": "typeContrat", "agregation": agg(contracts.collect()) },
        { "filtre": "experience", "agregation": agg(experience.collect()) },
        { "filtre": "qualification", "agregation": agg(qualification) },
    ])
}

/// Every offer of a sandbox, in the order searches return them (dateCreation
/// descending, then id).
#[derive(Debug)]
pub struct FtData {
    seed: u64,
    anchor: i64,
    offers: Vec<Offer>,
    by_id: HashMap<[u8; 7], u32>,
    mutations: u64,
    /// What `motsCles` searches, folded, per offer: made on the first keyword search.
    folded: OnceLock<Vec<String>>,
}

const ID_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

impl FtData {
    /// `count` offers for `seed`, created in the [`SPAN_DAYS`] days before `anchor`.
    pub fn new(seed: u64, count: usize, anchor: DateTime<Utc>) -> FtData {
        let anchor = anchor.timestamp();
        let span = (SPAN_DAYS * 86_400) as u64;
        let mut seen = HashSet::with_capacity(count);
        let mut offers = Vec::with_capacity(count);
        let mut previous_created = anchor - 1;
        for n in 0..count as u64 {
            let r = |salt: u64| mix(seed, n, 3_000 + salt);
            let d = weighted(DEPARTEMENTS.iter().map(|d| d.weight), r(1));
            let dep = DEPARTEMENTS[d].code;
            let communes: Vec<usize> = (0..COMMUNES.len())
                .filter(|&i| COMMUNES[i].dep == dep)
                .collect();
            let commune = communes[weighted(communes.iter().map(|&i| COMMUNES[i].weight), r(2))];
            let rome = (r(3) % ROMES.len() as u64) as usize;
            let title = (r(4) % ROMES[rome].titles.len() as u64) as u8;
            let contract = weighted(CONTRACTS.iter().map(|c| c.2), r(5)) as u8;
            // More recent offers than old ones (older ones get filled and removed); one in
            // fifty shares its creation second with the previous one.
            let created = if n > 0 && r(8) % 50 == 0 {
                previous_created
            } else {
                anchor - 1 - (r(6) % span).min(r(7) % span) as i64
            };
            previous_created = created;
            let updated = if r(9) % 3 == 0 {
                created
            } else {
                created + (r(10) % ((anchor - created) as u64).clamp(1, 20 * 86_400)) as i64
            };
            let experience = weighted([40, 35, 25].into_iter(), r(11)) as u8;
            let experience_years = if experience == 0 {
                0
            } else {
                (r(12) % 5 + 1) as u8
            };
            let mut id = [0u8; 7];
            for k in 0.. {
                let v = mix(seed, n, 5_000 + k);
                id[0] = b'1';
                id[1] = b'0' + ((v >> 8) % 10) as u8;
                id[2] = b'0' + ((v >> 16) % 10) as u8;
                for (j, c) in id[3..].iter_mut().enumerate() {
                    *c = ID_CHARS[((v >> (24 + 6 * j)) % 36) as usize];
                }
                if seen.insert(id) {
                    break;
                }
            }
            offers.push(Offer {
                id,
                n: n as u32,
                created,
                updated,
                commune: commune as u16,
                rome: rome as u8,
                title,
                contract,
                experience,
                experience_years,
                version: 0,
            });
        }
        offers.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        let by_id = offers
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id, i as u32))
            .collect();
        FtData {
            seed,
            anchor,
            offers,
            by_id,
            mutations: 0,
            folded: OnceLock::new(),
        }
    }

    /// The instant creation dates are counted back from.
    pub fn anchor(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.anchor, 0).unwrap_or_default()
    }

    /// Every offer, in the API's order.
    pub fn offers(&self) -> &[Offer] {
        &self.offers
    }

    pub fn get(&self, id: &str) -> Option<&Offer> {
        let key: [u8; 7] = id.as_bytes().try_into().ok()?;
        self.by_id
            .get(&key)
            .and_then(|&i| self.offers.get(i as usize))
    }

    /// Changes `share` (0..1) of the offers: a new `dateActualisation` and description.
    pub fn mutate(&mut self, share: f64) {
        let k = self.mutations;
        self.mutations += 1;
        let per_mille = (share.clamp(0.0, 1.0) * 1000.0).round() as u64;
        self.folded = OnceLock::new();
        for o in &mut self.offers {
            let r = mix(self.seed, u64::from(o.n), 20_000 + k * 7919);
            if r % 1000 < per_mille {
                o.version = o.version.saturating_add(1);
                o.updated = self.anchor + 60 * (k as i64 + 1) + ((r >> 20) % 60) as i64;
            }
        }
    }

    /// The offer's `i`-th draw of its JSON (the same whenever it is asked).
    fn draw(&self, o: &Offer, salt: u64) -> u64 {
        mix(self.seed, u64::from(o.n), 10_000 + salt)
    }

    /// Whether the offer is a work-study contract (`alternance`).
    fn alternance(&self, o: &Offer) -> bool {
        CONTRACTS[o.contract as usize].0 == "CDD" && self.draw(o, 8).is_multiple_of(10)
    }

    /// The offer's contract nature (code, label), when it says one: a work-study CDD is
    /// an apprenticeship or a professionalisation contract, the others work contracts.
    pub fn nature(&self, o: &Offer) -> Option<(&'static str, &'static str)> {
        if self.draw(o, 9).is_multiple_of(33) {
            return None;
        }
        let code = match (self.alternance(o), self.draw(o, 52) % 3) {
            (true, 0) => "FS",
            (true, _) => "E2",
            (false, _) => "E1",
        };
        NATURES.iter().find(|(c, _)| *c == code).copied()
    }

    /// `dureeTravailLibelle` and whether it is full time, when the offer says.
    pub fn work_time(&self, o: &Offer) -> Option<(&'static str, bool)> {
        (!self.draw(o, 37).is_multiple_of(20)).then(|| *pick(WORK_TIMES, self.draw(o, 38)))
    }

    /// `entreprise.entrepriseAdaptee`, when the offer has an `entreprise`: one company
    /// in twenty is adapted.
    pub fn adapted(&self, o: &Offer) -> Option<bool> {
        match self.company(o) {
            Some(_) => Some(self.draw(o, 51).is_multiple_of(20)),
            None => self.draw(o, 5).is_multiple_of(2).then_some(false),
        }
    }

    /// What the offer pays, when its `salaire` says (some say `Selon profil`, some
    /// nothing).
    pub fn pay(&self, o: &Offer) -> Option<Pay> {
        if self.draw(o, 33) % 20 < 5 {
            return None;
        }
        let step = (self.draw(o, 34) % 5) as u32;
        Some(match ROMES[o.rome as usize].pay {
            Pay::Hour(cents) => Pay::Hour(cents + step * 25),
            Pay::Month(lo, hi) => Pay::Month(lo, hi + step * 50),
            Pay::Year(lo, hi) => Pay::Year(lo, hi + step * 1000),
        })
    }

    fn company(&self, o: &Offer) -> Option<&'static str> {
        let r = mix(self.seed, u64::from(o.n), 9_001);
        match r % 100 {
            0..15 => None,
            _ if CONTRACTS[o.contract as usize].0 == "MIS" => Some(*pick(AGENCIES, r >> 8)),
            _ => Some(*pick(COMPANIES, r >> 8)),
        }
    }

    /// Offer `i`'s intitule, description and romeLibelle, folded, one a line: what
    /// `motsCles` looks into.
    pub fn folded_text(&self, i: usize) -> &str {
        let all = self.folded.get_or_init(|| {
            let text = |o: &Offer| {
                let texts: Vec<String> = self.texts(o).into_iter().flatten().collect();
                fold(&texts.join("\n"))
            };
            self.offers.iter().map(text).collect()
        });
        all.get(i).map_or("", String::as_str)
    }

    /// The texts `motsCles` looks into: intitule, description, romeLibelle (as served).
    pub fn texts(&self, o: &Offer) -> [Option<String>; 3] {
        let rome = &ROMES[o.rome as usize];
        [
            Some(rome.titles[o.title as usize].0.to_owned()),
            self.description(o),
            Some(rome.libelle.to_owned()),
        ]
    }

    fn description(&self, o: &Offer) -> Option<String> {
        let r = |salt: u64| mix(self.seed, u64::from(o.n), 9_100 + salt);
        if r(0) % 200 == 0 {
            return None;
        }
        let rome = &ROMES[o.rome as usize];
        let city = COMMUNES[o.commune as usize].name;
        let (title, appellation) = rome.titles[o.title as usize];
        let title = title.trim_end_matches(" (H/F)").trim_end_matches(" H/F");
        let who = self.company(o).unwrap_or("notre client");
        let opening = match r(1) % 3 {
            0 => format!(
                "Nous recherchons un(e) {appellation} pour renforcer notre équipe à {city}."
            ),
            1 => format!("{who} recrute un(e) {title} sur son site de {city}."),
            _ => format!(
                "Dans le cadre de son développement, {who} recherche un(e) {title} à {city}."
            ),
        };
        let start = r(2) as usize;
        let missions: Vec<String> = (0..3)
            .map(|j| {
                let s = rome.skills[(start + j) % rome.skills.len()];
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_lowercase().chain(c).collect())
                    .unwrap_or_default()
            })
            .collect();
        let mut text = format!(
            "{opening}\nVos missions : {}.\n{} {}",
            missions.join(" ; "),
            pick(PROFILES, r(3)),
            pick(CONDITIONS, r(4) + u64::from(o.version)),
        );
        if o.version > 0 {
            text.push_str(&format!(" Offre actualisée ({}).", o.version));
        }
        Some(text)
    }

    /// The offer as the API sends it.
    pub fn json(&self, o: &Offer) -> Value {
        let r = |salt: u64| mix(self.seed, u64::from(o.n), 10_000 + salt);
        let rome = &ROMES[o.rome as usize];
        let c = &COMMUNES[o.commune as usize];
        let (title, appellation) = rome.titles[o.title as usize];
        let id = o.id();
        let detail_url = format!("https://candidat.francetravail.fr/offres/recherche/detail/{id}");
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        m.insert("intitule".into(), json!(title));
        if let Some(d) = self.description(o) {
            m.insert("description".into(), json!(d));
        }
        m.insert("dateCreation".into(), json!(api_datetime(o.created)));
        if r(1) % 500 != 0 {
            m.insert("dateActualisation".into(), json!(api_datetime(o.updated)));
        }
        let mut place = Map::new();
        place.insert("libelle".into(), json!(format!("{} - {}", c.dep, c.name)));
        if r(2) % 50 != 0 {
            place.insert("latitude".into(), json!(c.lat));
            place.insert("longitude".into(), json!(c.lon));
        }
        if r(3) % 100 != 0 {
            place.insert("codePostal".into(), json!(c.postal));
        }
        place.insert("commune".into(), json!(c.insee));
        m.insert("lieuTravail".into(), Value::Object(place));
        m.insert("romeCode".into(), json!(rome.code));
        m.insert("romeLibelle".into(), json!(rome.libelle));
        if r(4) % 50 != 0 {
            m.insert("appellationlibelle".into(), json!(appellation));
        }
        match self.company(o) {
            Some(name) => {
                let mut e = Map::new();
                e.insert("nom".into(), json!(name));
                if r(5) % 3 == 0 {
                    e.insert(
                        "description".into(),
                        json!(format!(
                            "{name} : une entreprise à taille humaine, présente à {}.",
                            c.name
                        )),
                    );
                }
                if r(6) % 4 == 0 {
                    e.insert(
                        "logo".into(),
                        json!(format!(
                            "https://entreprise.francetravail.fr/static/img/logos/{}.png",
                            o.id()
                        )),
                    );
                    e.insert(
                        "url".into(),
                        json!(format!(
                            "https://www.{}.fr",
                            fold(name).replace(|c: char| !c.is_ascii_alphanumeric(), "")
                        )),
                    );
                }
                e.insert("entrepriseAdaptee".into(), json!(self.adapted(o)));
                m.insert("entreprise".into(), Value::Object(e));
            }
            None => {
                if let Some(adapted) = self.adapted(o) {
                    m.insert("entreprise".into(), json!({ "entrepriseAdaptee": adapted }));
                }
            }
        }
        let (code, label, _) = CONTRACTS[o.contract as usize];
        m.insert("typeContrat".into(), json!(code));
        let months = r(7) % 11 + 1;
        let label = if code == "CDI" {
            label.to_owned()
        } else {
            format!("{label} - {months} Mois")
        };
        m.insert("typeContratLibelle".into(), json!(label));
        let alternance = self.alternance(o);
        if let Some((_, nature)) = self.nature(o) {
            m.insert("natureContrat".into(), json!(nature));
        }
        m.insert(
            "experienceExige".into(),
            json!(EXPERIENCES[o.experience as usize]),
        );
        if r(10) % 100 != 0 {
            let y = o.experience_years;
            let label = match o.experience {
                0 => "Débutant accepté".to_owned(),
                1 => format!("Expérience souhaitée de {y} An(s)"),
                _ => format!("Expérience exigée de {y} An(s)"),
            };
            m.insert("experienceLibelle".into(), json!(label));
        }
        if r(11) % 5 == 0 {
            m.insert("formations".into(), json!([{ "codeFormation": "22454", "domaineLibelle": rome.libelle, "niveauLibelle": "CAP, BEP et équivalents", "exigence": "S" }]));
        }
        if r(12) % 20 == 0 {
            m.insert(
                "langues".into(),
                json!([{ "libelle": "Anglais", "exigence": "S" }]),
            );
        }
        if rome.code == "N4105" || r(13) % 20 == 0 {
            let need = if rome.code == "N4105" { "E" } else { "S" };
            m.insert(
                "permis".into(),
                json!([{ "libelle": "B - Véhicule léger", "exigence": need }]),
            );
        }
        if r(14) % 20 != 0 {
            let n = (2 + r(15) % 5).min(rome.skills.len() as u64) as usize;
            let start = r(16) as usize;
            let skills: Vec<Value> = (0..n)
                .map(|j| {
                    let k = (start + j) % rome.skills.len();
                    let code = 100_000 + mix(0, u64::from(o.rome), k as u64) % 900_000;
                    let need = if r(17 + j as u64) % 3 == 0 { "E" } else { "S" };
                    json!({ "code": code.to_string(), "libelle": rome.skills[k], "exigence": need })
                })
                .collect();
            m.insert("competences".into(), Value::Array(skills));
        }
        if r(30) % 5 < 3 {
            let n = 1 + r(31) % 3;
            let start = r(32) as usize;
            let q: Vec<Value> = (0..n as usize)
                .map(|j| {
                    let (l, d) = QUALITES[(start + j) % QUALITES.len()];
                    json!({ "libelle": l, "description": d })
                })
                .collect();
            m.insert("qualitesProfessionnelles".into(), Value::Array(q));
        }
        match (self.pay(o), r(33) % 20) {
            (None, 4) => {
                m.insert("salaire".into(), json!({ "commentaire": "Selon profil" }));
            }
            (None, _) => {}
            (Some(pay), _) => {
                let mut s = Map::new();
                s.insert("libelle".into(), json!(pay.libelle()));
                if r(35) % 3 == 0 {
                    s.insert("complement1".into(), json!("Mutuelle"));
                }
                if r(36) % 4 == 0 {
                    s.insert(
                        "complement2".into(),
                        json!("Titres restaurant / Prime de panier"),
                    );
                }
                m.insert("salaire".into(), Value::Object(s));
            }
        }
        if let Some((duration, full)) = self.work_time(o) {
            let converted = if full { "Temps plein" } else { "Temps partiel" };
            m.insert("dureeTravailLibelle".into(), json!(duration));
            m.insert("dureeTravailLibelleConverti".into(), json!(converted));
        }
        m.insert("alternance".into(), json!(alternance));
        if r(39) % 5 < 2 {
            let name = self.company(o).map_or_else(
                || format!("France Travail - Agence de {}", c.name),
                str::to_owned,
            );
            m.insert("contact".into(), json!({ "nom": name, "coordonnees1": detail_url, "courriel": format!("Pour postuler, utiliser le lien suivant : {detail_url}") }));
        }
        if r(40) % 50 != 0 {
            let n = if r(41) % 10 == 0 { 2 + r(42) % 3 } else { 1 };
            m.insert("nombrePostes".into(), json!(n));
        }
        if r(43) % 10 != 0 {
            m.insert("accessibleTH".into(), json!(r(44) % 4 == 0));
        }
        if r(45) % 10 != 0 {
            let q = QUALIFICATIONS
                .iter()
                .find(|(c, _)| *c == rome.qualification);
            if let Some((code, label)) = q {
                m.insert("qualificationCode".into(), json!(code));
                m.insert("qualificationLibelle".into(), json!(label));
            }
        }
        if r(46) % 33 != 0 {
            let (naf, division, label) = rome.naf;
            m.insert("codeNAF".into(), json!(naf));
            m.insert("secteurActivite".into(), json!(division));
            m.insert("secteurActiviteLibelle".into(), json!(label));
        }
        let origin = if r(47) % 8 == 0 {
            json!({ "origine": "2", "urlOrigine": format!("https://www.hellowork.com/fr-fr/emplois/{}.html", r(48) % 90_000_000 + 10_000_000), "partenaires": [{ "nom": "HELLOWORK", "url": "https://www.hellowork.com", "logo": "https://www.francetravail.fr/logos/hellowork.png" }] })
        } else {
            json!({ "origine": "1", "urlOrigine": detail_url })
        };
        m.insert("origineOffre".into(), origin);
        if r(49) % 1000 < 4 {
            let (k, v) = pick(EXTRA_FIELDS, r(50));
            m.insert((*k).into(), serde_json::from_str(v).unwrap_or(Value::Null));
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn anchor() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .expect("date")
    }

    #[test]
    fn accents_and_case_fold_away() {
        assert_eq!(fold("Développeur"), "developpeur");
        assert_eq!(fold("ÉLABORER des Plats"), "elaborer des plats");
        assert_eq!(fold("Maçon / Maçonne"), "macon / maconne");
        assert_eq!(fold("gros Œuvre"), "gros oeuvre");
        assert_eq!(fold("Sélestat"), fold("SELESTAT"));
        assert_eq!(fold("e\u{301}te\u{301}"), "ete", "decomposed accents");
    }

    #[test]
    fn the_default_data_needs_splitting_and_holds_together() {
        let data = FtData::new(42, DEFAULT_OFFERS, anchor());
        let offers = data.offers();
        assert_eq!(offers.len(), DEFAULT_OFFERS);
        let paris = offers
            .iter()
            .filter(|o| COMMUNES[o.commune as usize].dep == "75")
            .count();
        assert!(paris > 3_150, "Paris holds {paris}");
        for d in DEPARTEMENTS.iter().filter(|d| d.code != "75") {
            let n = offers
                .iter()
                .filter(|o| COMMUNES[o.commune as usize].dep == d.code)
                .count();
            assert!((100..3_150).contains(&n), "{}: {n}", d.code);
        }
        let ids: HashSet<&str> = offers.iter().map(Offer::id).collect();
        assert_eq!(ids.len(), offers.len(), "unique ids");
        let a = anchor().timestamp();
        for w in offers.windows(2) {
            let ordered =
                w[0].created > w[1].created || (w[0].created == w[1].created && w[0].id < w[1].id);
            assert!(ordered, "{} then {}", w[0].id(), w[1].id());
        }
        for o in offers {
            assert!(
                o.id.iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            );
            assert!(o.created < a && o.created >= a - SPAN_DAYS * 86_400);
            assert!(o.updated >= o.created && o.updated <= a);
            assert_eq!(data.get(o.id()).map(|g| g.id), Some(o.id));
        }
        let json = data.json(&offers[0]);
        assert_eq!(json["id"], offers[0].id());
        assert!(
            json["dateCreation"]
                .as_str()
                .is_some_and(|d| d.ends_with(".000Z") && d.len() == 24)
        );
    }

    #[test]
    fn every_generated_offer_reads_without_warnings() {
        let data = FtData::new(7, 3_000, anchor());
        for o in data.offers() {
            let (read, warnings) = crate::france_travail::parse::offer(&data.json(o))
                .unwrap_or_else(|e| panic!("{}: {e}", o.id()));
            assert_eq!(warnings, Vec::<String>::new(), "{}", o.id());
            assert_eq!(read.id, o.id());
        }
    }

    #[test]
    fn a_mutation_changes_about_its_share() {
        let mut data = FtData::new(3, 2_000, anchor());
        let before: Vec<Value> = data.offers().iter().map(|o| data.json(o)).collect();
        data.mutate(0.1);
        let changed = data
            .offers()
            .iter()
            .zip(&before)
            .filter(|(o, b)| data.json(o) != **b)
            .count();
        assert!((140..=260).contains(&changed), "{changed} offers changed");
    }
}
