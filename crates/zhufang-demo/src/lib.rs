//! The demo city (江城市, fictional): one bureau, two branches, five stations
//! with their 警务区, partner agencies, demo accounts, the prevention task
//! catalogue and about three months of task history.
//!
//! Everything goes through the public store and service API, so the history
//! obeys the same workflow rules, clocks, notices and audit chain as real
//! use. Task history is planned first (pure, from the seeded RNG), then
//! replayed in time order with backdated `now` values, running the deadline
//! scan along the way, so ids, task numbers, notices and audit records come
//! out in the order they would have happened.

pub mod geography;
use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use zhufang_domain::audit::AuditEvent;
use zhufang_domain::calendar::WorkCalendar;
use zhufang_domain::geojson::Datum;
use zhufang_domain::task::{PhaseLimits, next_clock};
use zhufang_domain::workflow::{Effect, Workflow};
use zhufang_domain::{Role, Wgs84Point};
use zhufang_store::Store;
use zhufang_store::model::{CatalogueItem, NewUser, OrgUnit, User};
use zhufang_store::service::{self, CreateTask, TransitionInput};

const CITY_TOML: &str = include_str!("../data/city.toml");
const CATALOGUE_TOML: &str = include_str!("../data/catalogue.toml");

/// Days of history the seeder writes.
const HISTORY_DAYS: i64 = 90;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub tasks: usize,
    pub rng_seed: u64,
    /// Cut the town into grids (tests of the grid import start without).
    pub grids: bool,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self { tasks: 2000, rng_seed: 20231128, grids: true }
    }
}

#[derive(Debug, serde::Serialize)]
pub struct SeedReport {
    pub org_units: usize,
    pub users: usize,
    pub catalogue_items: usize,
    /// Grids (Voronoi cells of the town) imported.
    pub grids: usize,
    pub tasks: usize,
    /// Incidents of the last 30 days (a quarter as many as tasks).
    pub incidents: usize,
    /// Disputes of the last 45 days (a sixteenth as many as tasks), worked through the ledger.
    pub disputes: usize,
    /// Hazards of the last 45 days (one for every forty tasks), worked through the register.
    pub hazards: usize,
    /// Volunteers on the stations' rosters (群防群治), with two posts per station and their last two weeks.
    pub volunteers: usize,
    pub by_state: Vec<(String, i64)>,
}

// ---------------------------------------------------------------- data files

#[derive(Debug, Deserialize)]
struct City {
    bureau: UnitCfg,
    branch: Vec<BranchCfg>,
    names: Names,
    places: Places,
}

#[derive(Debug, Deserialize)]
struct UnitCfg {
    code: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct BranchCfg {
    code: String,
    name: String,
    station: Vec<StationCfg>,
}

#[derive(Debug, Deserialize)]
struct StationCfg {
    code: String,
    name: String,
    district: Vec<DistrictCfg>,
}

#[derive(Debug, Deserialize)]
struct DistrictCfg {
    code: String,
    name: String,
    village: String,
}

#[derive(Debug, Deserialize)]
struct Names {
    surnames: Vec<String>,
    given: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Places {
    roads: Vec<String>,
    landmarks: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct CatalogueFile {
    item: Vec<ItemCfg>,
}

#[derive(Debug, Clone, Deserialize)]
struct ItemCfg {
    code: String,
    name: String,
    name_en: String,
    category: String,
    guideline: String,
    default_role: String,
    accept_hours: i64,
    finish_workdays: i64,
    #[serde(default)]
    activity: String,
}

fn city() -> anyhow::Result<City> {
    toml::from_str(CITY_TOML).context("demo city.toml")
}

fn catalogue_cfg() -> anyhow::Result<Vec<ItemCfg>> {
    Ok(toml::from_str::<CatalogueFile>(CATALOGUE_TOML).context("demo catalogue.toml")?.item)
}

/// The demo prevention task catalogue (主防职责任务清单), all items active.
pub fn catalogue_items() -> anyhow::Result<Vec<CatalogueItem>> {
    Ok(catalogue_cfg()?
        .into_iter()
        .map(|i| CatalogueItem {
            code: i.code,
            name: i.name,
            name_en: i.name_en,
            category: i.category,
            guideline: i.guideline,
            default_role: i.default_role,
            accept_hours: i.accept_hours,
            finish_workdays: i.finish_workdays,
            active: true,
            activity: i.activity,
        })
        .collect())
}

// ---------------------------------------------------------------- the city in memory

/// A partner agency (联动单位) and its demo account.
struct AgencySpec {
    code: &'static str,
    name: &'static str,
    username: &'static str,
}

const HOTLINE: AgencySpec =
    AgencySpec { code: "361200012345", name: "江城市12345政务服务便民热线中心", username: "p.12345" };
const STATION_AGENCIES: [[AgencySpec; 2]; 2] = [
    [
        AgencySpec { code: "361202001100", name: "城南区滨江街道司法所", username: "p.sifa1" },
        AgencySpec { code: "361202001000", name: "城南区滨江街道办事处", username: "p.jiedao1" },
    ],
    [
        AgencySpec { code: "361202002100", name: "城南区樟林镇司法所", username: "p.sifa2" },
        AgencySpec { code: "361202002000", name: "城南区樟林镇人民政府", username: "p.zhen2" },
    ],
];

/// Station centres east/north of the city centre, in km. Stations 1–3 are
/// the town, 4–5 the county side.
const STATION_OFFSETS_KM: [(f64, f64); 5] = [(0.0, 0.0), (3.6, -2.8), (-4.1, -2.2), (5.2, 3.9), (-1.8, 5.4)];
const CENTRE: (f64, f64) = (28.0, 116.3);
/// Relative task volume per station (1 and 2 are the busy ones).
const STATION_WEIGHTS: [f64; 5] = [1.35, 1.25, 0.95, 0.85, 0.7];

struct District {
    code: String,
    village: String,
    rural: bool,
    centre: (f64, f64),
    officer: String,
    aux: String,
}

struct Station {
    code: String,
    name: String,
    /// 滨江 for 滨江派出所.
    short: String,
    branch: usize,
    centre: (f64, f64),
    leader: String,
    command: String,
    branch_leader: String,
    districts: Vec<District>,
    sifa: Option<String>,
    gov: Option<String>,
    /// Roads and landmarks named after this station's area.
    roads: Vec<String>,
    landmarks: Vec<String>,
}

fn km_to_deg(east: f64, north: f64) -> (f64, f64) {
    let lat = CENTRE.0 + north / 111.0;
    let lon = CENTRE.1 + east / (111.32 * CENTRE.0.to_radians().cos());
    (lat, lon)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// First two characters, the stem place names share (滨江社区 → 滨江).
fn stem(s: &str) -> String {
    s.chars().take(2).collect()
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&beijing())
}

fn at_local(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let naive = d.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("valid time"));
    beijing().from_local_datetime(&naive).single().expect("fixed offset").with_timezone(&Utc)
}

/// Moves a moment in the night (22:00–07:00 Beijing) to the next morning (07:30–10:00).
fn waking(t: DateTime<Utc>, rng: &mut StdRng) -> DateTime<Utc> {
    let l = local(t);
    let h = l.hour();
    let morning = |d: NaiveDate, rng: &mut StdRng| at_local(d, 7, 30) + Duration::minutes(rng.gen_range(0..150));
    if h >= 22 {
        morning(l.date_naive().succ_opt().expect("date"), rng)
    } else if h < 7 {
        morning(l.date_naive(), rng)
    } else {
        t
    }
}

fn minutes(m: f64) -> Duration {
    Duration::seconds((m * 60.0) as i64)
}

// ---------------------------------------------------------------- seeding

/// Seeds an empty, migrated database (call store.migrate() and store.ensure_defaults() before). Errors if org_units is not empty.
pub async fn seed(
    store: &dyn Store,
    password_hash: &str,
    now: DateTime<Utc>,
    opts: &SeedOptions,
) -> anyhow::Result<SeedReport> {
    if !store.org_units().await?.is_empty() {
        bail!("the database already has organisation units: the demo city can only be seeded into an empty database");
    }
    let city = city()?;
    let items = catalogue_items()?;
    let mut rng = StdRng::seed_from_u64(opts.rng_seed);

    // The organisation, people and catalogue exist from the day before the history.
    let setup_at = now - Duration::days(HISTORY_DAYS + 1);

    // Organisation tree.
    let mut org_count = 0usize;
    let ev = |kind: &str| AuditEvent::new(None, "system", kind, 0, "create", None, None);
    let bureau =
        store.create_org_unit(&city.bureau.code, &city.bureau.name, "bureau", None, setup_at, &ev("org_unit")).await?;
    org_count += 1;
    let mut branches: Vec<OrgUnit> = vec![];
    let mut station_units: Vec<(usize, OrgUnit, Vec<OrgUnit>)> = vec![];
    for (bi, b) in city.branch.iter().enumerate() {
        let bu = store.create_org_unit(&b.code, &b.name, "branch", Some(bureau.id), setup_at, &ev("org_unit")).await?;
        org_count += 1;
        for s in &b.station {
            let su = store.create_org_unit(&s.code, &s.name, "station", Some(bu.id), setup_at, &ev("org_unit")).await?;
            org_count += 1;
            let mut ds = vec![];
            for d in &s.district {
                ds.push(
                    store.create_org_unit(&d.code, &d.name, "district", Some(su.id), setup_at, &ev("org_unit")).await?,
                );
                org_count += 1;
            }
            station_units.push((bi, su, ds));
        }
        branches.push(bu);
    }
    let hotline =
        store.create_org_unit(HOTLINE.code, HOTLINE.name, "agency", Some(bureau.id), setup_at, &ev("org_unit")).await?;
    org_count += 1;
    let mut agency_units: Vec<Vec<OrgUnit>> = vec![];
    for specs in &STATION_AGENCIES {
        let mut v = vec![];
        for a in specs {
            v.push(store.create_org_unit(a.code, a.name, "agency", Some(bureau.id), setup_at, &ev("org_unit")).await?);
            org_count += 1;
        }
        agency_units.push(v);
    }

    // Catalogue, dated before the history starts.
    let catalogue_at = setup_at;
    for item in &items {
        let audit = AuditEvent::new(
            None,
            "system",
            "catalogue_item",
            &item.code,
            "upsert",
            None,
            Some(&serde_json::to_value(item)?),
        );
        store.upsert_catalogue_item(item, catalogue_at, &audit).await?;
    }

    // People.
    let mut people = People::new(store, &city.names, password_hash, setup_at);
    people.add(&mut rng, "admin", bureau.id, Role::Admin).await?;
    people.add(&mut rng, "analyst", bureau.id, Role::BureauAnalyst).await?;
    for (bi, b) in branches.iter().enumerate() {
        // 分局领导: evaluates the tasks its station leaders carry out themselves.
        people.add(&mut rng, &format!("b{}.leader", bi + 1), b.id, Role::StationLeader).await?;
    }
    let cfg_stations: Vec<&StationCfg> = city.branch.iter().flat_map(|b| b.station.iter()).collect();
    let all_stems: Vec<(usize, String)> = cfg_stations
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let mut v = vec![(i, stem(&s.name))];
            v.extend(s.district.iter().map(|d| (i, stem(&d.village))));
            v
        })
        .collect();
    let owner = |text: &str| all_stems.iter().find(|(_, st)| text.starts_with(st.as_str())).map(|(i, _)| *i);
    let mut stations: Vec<Station> = vec![];
    for (si, (bi, su, dus)) in station_units.iter().enumerate() {
        let n = si + 1;
        let cfg = cfg_stations[si];
        let leader = format!("s{n}.leader");
        let command = format!("s{n}.command");
        people.add(&mut rng, &leader, su.id, Role::StationLeader).await?;
        people.add(&mut rng, &command, su.id, Role::CommandRoom).await?;
        let (ce, cn) = STATION_OFFSETS_KM[si % STATION_OFFSETS_KM.len()];
        let centre = km_to_deg(ce, cn);
        let rot: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
        let mut districts = vec![];
        for (di, (du, dc)) in dus.iter().zip(&cfg.district).enumerate() {
            let suffix = if di == 0 { String::new() } else { (di + 1).to_string() };
            let officer = format!("s{n}.officer{suffix}");
            let aux = format!("s{n}.aux{suffix}");
            people.add(&mut rng, &officer, du.id, Role::CommunityOfficer).await?;
            people.add(&mut rng, &aux, du.id, Role::Auxiliary).await?;
            let angle = rot + std::f64::consts::TAU * di as f64 / dus.len() as f64;
            let dcentre = km_to_deg(ce + 0.85 * angle.cos(), cn + 0.85 * angle.sin());
            districts.push(District {
                code: du.code.clone(),
                village: dc.village.clone(),
                rural: dc.village.ends_with('村'),
                centre: dcentre,
                officer,
                aux,
            });
        }
        let short = cfg.name.trim_end_matches("派出所").to_string();
        stations.push(Station {
            code: su.code.clone(),
            name: su.name.clone(),
            short,
            branch: *bi,
            centre,
            leader,
            command,
            branch_leader: format!("b{}.leader", bi + 1),
            districts,
            sifa: None,
            gov: None,
            roads: city.places.roads.iter().filter(|r| owner(r) == Some(si)).cloned().collect(),
            landmarks: city.places.landmarks.iter().filter(|l| owner(l) == Some(si)).cloned().collect(),
        });
    }
    people.add(&mut rng, HOTLINE.username, hotline.id, Role::PartnerAgency).await?;
    for (si, (specs, units)) in STATION_AGENCIES.iter().zip(&agency_units).enumerate() {
        for (k, (a, u)) in specs.iter().zip(units).enumerate() {
            people.add(&mut rng, a.username, u.id, Role::PartnerAgency).await?;
            if let Some(s) = stations.get_mut(si) {
                if k == 0 {
                    s.sifa = Some(a.username.to_string());
                } else {
                    s.gov = Some(a.username.to_string());
                }
            }
        }
    }
    let generic_roads: Vec<String> = city.places.roads.iter().filter(|r| owner(r).is_none()).cloned().collect();
    // Landmarks named after a branch (城南菜市场) belong to all of its stations.
    let branch_stems: Vec<String> =
        city.branch.iter().map(|b| stem(b.name.trim_start_matches(city.bureau.name.as_str()))).collect();
    for s in stations.iter_mut() {
        let stem = &branch_stems[s.branch];
        s.landmarks.extend(
            city.places.landmarks.iter().filter(|l| owner(l).is_none() && l.starts_with(stem.as_str())).cloned(),
        );
    }
    let generic_landmarks: Vec<String> = city
        .places
        .landmarks
        .iter()
        .filter(|l| owner(l).is_none() && !branch_stems.iter().any(|b| l.starts_with(b.as_str())))
        .cloned()
        .collect();

    // The town's grids: Voronoi cells around every 警务区 and station centre.
    let mut grid_count = 0;
    if opts.grids {
        let mut seeds = vec![];
        for st in &stations {
            let first = &st.districts[0];
            seeds.push(geography::Seed {
                at: st.centre,
                code: format!("{}900", st.code),
                name: format!("{}驻地网格", st.short),
                kind: "网格",
                station: st.code.clone(),
                officer: first.officer.clone(),
                auxiliaries: vec![first.aux.clone()],
                village: format!("{}集镇", st.short),
            });
            for d in &st.districts {
                seeds.push(geography::Seed {
                    at: d.centre,
                    code: d.code.clone(),
                    name: format!("{}网格", d.village),
                    kind: if d.rural { "村" } else { "社区" },
                    station: st.code.clone(),
                    officer: d.officer.clone(),
                    auxiliaries: vec![d.aux.clone()],
                    village: d.village.clone(),
                });
            }
        }
        let grids_geojson = geography::feature_collection(&seeds, 2.5).to_string();
        let report = service::import_grids(store, &grids_geojson, Datum::Wgs84, None, false, setup_at)
            .await
            .map_err(|e| anyhow::anyhow!("importing the demo grids: {e:?}"))?;
        let no_tasks_yet = service::GridRouter::from_records(&store.grids(None).await?);
        service::run_reroute(store, &no_tasks_yet, &mut |_| {}).await?;
        tracing::info!(grids = report.created, overlaps = report.overlaps.len(), "demo grids");
        grid_count = report.created;
    }

    // Task history.
    let wf = store.workflow("task").await?;
    let cal = store.calendar().await?;
    let mut users: HashMap<String, User> = HashMap::new();
    for name in &people.usernames {
        let (u, _) = store.user_by_username(name).await?.with_context(|| format!("user {name} just created"))?;
        users.insert(name.clone(), u);
    }
    let world = World {
        stations: &stations,
        items: &items,
        roads: &generic_roads,
        landmarks: &generic_landmarks,
        hotline: HOTLINE.username,
        cal: &cal,
        now,
    };
    let plans = plan_tasks(&world, &mut rng, opts.tasks);
    let dispute_plans = plan_disputes(&stations, &users, &city.names, &mut rng, opts.tasks / 16, now);
    let hazard_plans = plan_hazards(&stations, &users, &mut rng, opts.tasks / 40, now)?;
    let (volunteers, volunteer_steps) = if opts.tasks > 0 {
        plan_volunteers(store, &stations, &users, &city.names, opts, &cal, setup_at, now).await?
    } else {
        (0, vec![])
    };
    let incident_plans = plan_incidents(&stations, &users, opts, opts.tasks / 4, now)?;
    let history = History {
        tasks: &plans,
        disputes: &dispute_plans,
        hazards: &hazard_plans,
        volunteers: &volunteer_steps,
        incidents: &incident_plans,
    };
    let (created, incidents) = replay(store, &wf, &cal, &users, &history, now).await?;
    let hazards = hazard_plans.0.len();
    let disputes = dispute_plans.len();

    let by_state = store.state_counts().await?;
    Ok(SeedReport {
        org_units: org_count,
        users: people.usernames.len(),
        catalogue_items: items.len(),
        grids: grid_count,
        tasks: created,
        incidents,
        disputes,
        hazards,
        volunteers,
        by_state,
    })
}

/// Creates the demo accounts with unique fictional names and phone numbers.
struct People<'a> {
    store: &'a dyn Store,
    /// When the accounts were opened (before the history starts).
    at: DateTime<Utc>,
    names: &'a Names,
    hash: String,
    usernames: Vec<String>,
    taken_names: HashSet<String>,
    phones: HashSet<String>,
}

impl<'a> People<'a> {
    fn new(store: &'a dyn Store, names: &'a Names, hash: &str, at: DateTime<Utc>) -> Self {
        Self {
            store,
            at,
            names,
            hash: hash.to_string(),
            usernames: vec![],
            taken_names: HashSet::new(),
            phones: HashSet::new(),
        }
    }

    async fn add(&mut self, rng: &mut StdRng, username: &str, org: i64, role: Role) -> anyhow::Result<()> {
        let names = self.names;
        let display_name = loop {
            let s = names.surnames.choose(rng).context("no surnames")?;
            let g = names.given.choose(rng).context("no given names")?;
            let n = format!("{s}{g}");
            if self.taken_names.insert(n.clone()) {
                break n;
            }
        };
        const PREFIXES: [&str; 9] = ["139", "138", "137", "135", "158", "159", "188", "187", "182"];
        let phone = loop {
            let p = format!("{}{:08}", PREFIXES.choose(rng).expect("non-empty"), rng.gen_range(0..100_000_000u32));
            if self.phones.insert(p.clone()) {
                break p;
            }
        };
        let u = NewUser {
            username: username.to_string(),
            display_name,
            phone: Some(phone),
            org_unit_id: org,
            password_hash: self.hash.clone(),
            roles: vec![role],
            must_change_password: false,
            created_at: self.at,
        };
        self.store.create_user(&u, &AuditEvent::new(None, "system", "user", 0, "create", None, None)).await?;
        self.usernames.push(username.to_string());
        Ok(())
    }
}

// ---------------------------------------------------------------- planning

struct World<'a> {
    stations: &'a [Station],
    items: &'a [CatalogueItem],
    roads: &'a [String],
    landmarks: &'a [String],
    hotline: &'a str,
    cal: &'a WorkCalendar,
    now: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Step {
    at: DateTime<Utc>,
    actor: String,
    action: &'static str,
    assignee: Option<String>,
    note: Option<String>,
    score: Option<i64>,
    location: Option<(f64, f64)>,
    report: Option<zhufang_domain::task::FieldReport>,
}

#[derive(Debug, Clone)]
struct Plan {
    created_at: DateTime<Utc>,
    accept_hours: i64,
    creator: String,
    input: CreateTask,
    steps: Vec<Step>,
}

/// Share of tasks per category (矛盾纠纷 and 基础工作 dominate, water safety is
/// a summer matter and low in the autumn months the history covers).
fn category_weight(cat: &str) -> f64 {
    match cat {
        "矛盾纠纷" => 18.0,
        "基础工作" => 15.0,
        "治安隐患" => 12.0,
        "重点场所" => 11.0,
        "消防安全" => 9.0,
        "电信诈骗" => 9.0,
        "校园安全" => 7.0,
        "法治宣传" => 6.0,
        "群防群治" => 5.0,
        "道路交通" => 4.0,
        "溺水防范" => 3.0,
        _ => 3.0,
    }
}

/// Items done at station level and titled with the station's name.
fn station_titled(item: &CatalogueItem) -> bool {
    matches!(item.default_role.as_str(), "station_leader" | "command_room")
        && !matches!(item.code.as_str(), "ZF-ZA-008" | "ZF-QF-003" | "ZF-MD-006" | "ZF-MD-007")
}

/// Landmarks found only in town (社区) or only in the countryside (村).
const URBAN_ONLY: &[&str] = &[
    "城中村",
    "老旧小区",
    "新建商品房小区",
    "步行街",
    "火车站广场",
    "汽车站",
    "大型超市",
    "出租屋集中区",
    "人民医院",
    "KTV",
    "银行网点",
    "通信营业厅",
];
const RURAL_ONLY: &[&str] = &["集镇集市", "山塘", "水库", "废弃矿坑", "村委会", "祠堂", "卫生院"];

/// Landmark keywords that fit an item.
fn landmark_words(item: &CatalogueItem) -> &'static [&'static str] {
    const SCHOOLS: &[&str] = &["小学", "中学", "幼儿园"];
    const WATER: &[&str] = &["山塘", "水库", "河道沙洲", "废弃矿坑", "公园"];
    let n = item.name.as_str();
    let by_name: &[(&str, &[&str])] = &[
        ("出租屋", &["城中村", "老旧小区"]),
        ("寄递", &["快递驿站", "物流园"]),
        ("旅馆", &["宾馆", "民宿"]),
        ("网吧", &["网吧"]),
        ("娱乐", &["KTV"]),
        ("废旧金属", &["废旧金属收购站"]),
        ("危化品", &["工业园区", "加油站"]),
        ("加油站", &["加油站"]),
        ("工地", &["在建工地"]),
        ("劳资", &["在建工地", "工业园区"]),
        ("物业", &["新建商品房小区", "老旧小区"]),
        ("电动自行车", &["老旧小区", "城中村", "新建商品房小区"]),
        ("野外用火", &[]),
        ("义务消防队", &[]),
        ("村", &[]),
        ("两卡", &["银行网点", "通信营业厅"]),
        ("非法集资", &["银行网点", "广场舞广场"]),
        ("赶集", &["集镇集市"]),
        ("校", SCHOOLS),
        ("护学", SCHOOLS),
        ("未成年人", SCHOOLS),
    ];
    if let Some((_, w)) = by_name.iter().find(|(k, _)| n.contains(k)) {
        return w;
    }
    match item.category.as_str() {
        "矛盾纠纷" => &["老旧小区", "城中村", "新建商品房小区"],
        "治安隐患" => &["城中村", "出租屋集中区", "步行街", "集镇集市", "汽车站", "火车站广场", "老旧小区"],
        "消防安全" => {
            &["出租屋集中区", "城中村", "老旧小区", "大型超市", "步行街", "KTV", "宾馆", "民宿", "集镇集市"]
        }
        "电信诈骗" => &["银行网点", "通信营业厅", "老旧小区", "新建商品房小区", "广场舞广场", "村委会"],
        "校园安全" => SCHOOLS,
        "溺水防范" => WATER,
        "道路交通" => &["汽车站", "火车站广场", "集镇集市", "小学", "中学"],
        "群防群治" => &["步行街", "公园", "集镇集市", "新建商品房小区"],
        "法治宣传" => &["集镇集市", "广场舞广场", "村委会", "祠堂", "步行街"],
        _ => &[],
    }
}

fn category_extra(cat: &str) -> &'static str {
    match cat {
        "矛盾纠纷" => "做到底数清、情况明，发现纠纷及时登记并明确化解责任人。",
        "治安隐患" => "重点关注可疑人员、车辆和治安隐患，发现问题当场登记。",
        "消防安全" => "重点检查消防通道、电气线路、电动车充电和灭火器材。",
        "电信诈骗" => "重点面向老年人和在校学生讲解常见诈骗手法。",
        "校园安全" => "重点检查门卫值守、一键报警和校园周边秩序。",
        "溺水防范" => "重点检查警示标识、救生设施和值守情况。",
        "道路交通" => "重点劝导不戴头盔、无证驾驶和超员载人等交通违法行为。",
        "重点场所" => "重点核查实名登记、安全制度落实和从业人员情况。",
        "群防群治" => "做好人员组织、排班和安全提示。",
        "法治宣传" => "发放宣传资料，做好现场讲解和答疑。",
        _ => "按要求完成并在平台如实反馈。",
    }
}

const LEADS: [&str; 5] =
    ["按照本周工作安排", "根据分局统一部署", "结合辖区近期警情研判结果", "根据群众反映", "按照主防工作清单要求"];

fn feedback_note(cat: &str, place: &str, partner: Option<&str>, rng: &mut StdRng) -> String {
    let n = rng.gen_range(2..40);
    let m = rng.gen_range(1..6);
    if let Some(p) = partner {
        let v: Vec<String> = if p.contains("12345") {
            vec![
                "已转相关职能部门办理，处理结果已电话告知当事人。".into(),
                format!("已受理并交办属地部门，{m}个工作日内办结，当事人表示认可。"),
            ]
        } else if p.contains("sifa") {
            vec![
                "已由司法所组织人民调解，双方签订调解协议。".into(),
                "已接收移交材料并组织调解，当事人同意继续协商，司法所将跟踪回访。".into(),
            ]
        } else {
            vec![
                "提示函已签收，已落实包案领导并开展化解工作。".into(),
                format!("已签收，会同村（居）委会召开协调会{m}次，矛盾已初步化解。"),
            ]
        };
        return v.choose(rng).cloned().unwrap_or_default();
    }
    let v: Vec<String> = match cat {
        "矛盾纠纷" => vec![
            format!("已到{place}走访当事双方，经现场调解双方达成一致，已录入矛盾纠纷台账。"),
            format!("已在{place}开展排查，摸排矛盾纠纷{m}起，均已登记并明确化解责任人。"),
            "已会同村（居）调解员进行调解，当事人情绪稳定，后续将持续回访。".into(),
        ],
        "治安隐患" => vec![
            format!("已对{place}完成巡查，发现治安隐患{m}处，已登记并通知责任单位限期整改。"),
            format!("巡查中未发现明显治安隐患，已对{n}名群众开展安全提示。"),
        ],
        "消防安全" => vec![
            format!("已检查{place}场所{n}处，发现{m}处消防隐患，已当场责令整改并拍照留档。"),
            "已检查，消防通道畅通，灭火器材在有效期内，未发现明显隐患。".into(),
        ],
        "电信诈骗" => vec![
            format!("已在{place}开展反诈宣传，发放宣传资料{n}份，现场指导群众安装国家反诈中心APP。"),
            "已上门劝阻，当事人已知悉诈骗风险，未发生资金损失。".into(),
        ],
        "校园安全" => vec![
            format!("已对{place}开展检查，门卫值守和一键报警装置正常，已提醒学校加强放学时段管理。"),
            format!("已在{place}完成值守，上下学时段秩序良好。"),
        ],
        "溺水防范" => vec![
            format!("已巡查{place}，警示标识完好，补充救生圈{m}个，已劝离在水边玩耍的儿童。"),
            format!("已完成{place}巡查，救生设施齐全，未发现下水游泳人员。"),
        ],
        "道路交通" => vec![
            format!("已在{place}开展交通安全劝导，劝导交通违法行为{n}起。"),
            format!("已排查{place}道路交通隐患，发现{m}处缺少警示标志，已报交管部门。"),
        ],
        "重点场所" => vec![
            format!("已对{place}开展检查，实名登记制度落实到位，发现{m}处问题已责令整改。"),
            format!("已检查{place}，台账资料齐全，未发现违法违规情况。"),
        ],
        "群防群治" => vec![
            format!("已组织群防群治力量{n}人参加，活动有序开展，未发生安全问题。"),
            format!("已完成人员排班，新增志愿者{m}名，已开展安全提示。"),
        ],
        "法治宣传" => vec![
            format!("已在{place}开展宣传，发放资料{n}份，现场解答群众咨询{m}人次。"),
            format!("已进村入户宣传{n}户，张贴宣传海报{m}张。"),
        ],
        _ => {
            vec!["已按要求完成，相关情况已在平台登记。".into(), format!("已完成，共走访群众{n}户，收集意见建议{m}条。")]
        }
    };
    v.choose(rng).cloned().unwrap_or_default()
}

const REFUSE_NOTES: [&str; 4] = [
    "该地点不属于本人警务区，请改派责任民警。",
    "本人当日参加分局集中培训，无法按时处置，申请改派。",
    "本人正在处置突发警情，请改派其他同志。",
    "本人病假中，申请改派。",
];
const CANCEL_NOTES: [&str; 4] = [
    "任务重复下发，予以撤销。",
    "该项工作已并入分局专项行动统一开展，撤销本任务。",
    "经核实，相关场所已停业，无需开展。",
    "派单信息有误，撤销后重新下发。",
];
const RETURN_NOTES: [&str; 4] = [
    "反馈内容过于简单，请补充现场照片和整改情况后重新提交。",
    "隐患整改情况未写明，请复查后补充说明。",
    "未附走访对象签字记录，请补齐后重新反馈。",
    "处置结果与任务要求不符，请重新到场核实。",
];
const REWORK_NOTES: [&str; 3] = [
    "已按要求补充现场照片和整改记录，请审核。",
    "已重新到场复查，隐患已整改完毕，补充说明如上。",
    "已补齐走访记录和签字材料。",
];

fn eval_comment(score: i64, rng: &mut StdRng) -> Option<String> {
    if rng.gen_bool(0.3) {
        return None;
    }
    let v: &[&str] = match score {
        5 => &["处置及时，效果良好。", "工作扎实，记录完整。", "按时办结，群众满意。"],
        4 => &["完成情况较好，台账资料可再细化。", "基本完成，注意后续跟踪回访。"],
        _ => &["完成质量一般，办理时间偏长。", "整改跟踪不到位，需加强。"],
    };
    v.choose(rng).map(|s| s.to_string())
}

/// A creation moment in the history window: recent days denser, working
/// days busier than rest days, office hours mostly.
fn pick_created(w: &World<'_>, days: &WeightedIndex<f64>, rng: &mut StdRng) -> DateTime<Utc> {
    let today = local(w.now).date_naive();
    loop {
        let back = days.sample(rng) as i64;
        let d = today - Duration::days(back);
        let (h, m) = if rng.gen_bool(0.88) {
            (rng.gen_range(8..18), rng.gen_range(0..60))
        } else {
            (rng.gen_range(18..22), rng.gen_range(0..60))
        };
        let t = at_local(d, h, m) + Duration::seconds(rng.gen_range(0..60));
        if t < w.now - Duration::minutes(20) {
            return t;
        }
    }
}

fn period_suffix(name: &str, created: DateTime<Utc>) -> String {
    let l = local(created);
    if name.starts_with("每日一") {
        format!("（{}月{}日）", l.month(), l.day())
    } else if name.starts_with("每周一") {
        format!("（第{}周）", l.iso_week().week())
    } else if name.starts_with("每月一") {
        format!("（{}月）", l.month())
    } else {
        String::new()
    }
}

/// A point within about `km` of `c`.
fn jitter(c: (f64, f64), km: f64, rng: &mut StdRng) -> (f64, f64) {
    let dn = rng.gen_range(-km..km);
    let de = rng.gen_range(-km..km);
    (round6(c.0 + dn / 111.0), round6(c.1 + de / (111.32 * c.0.to_radians().cos())))
}

fn plan_tasks(w: &World<'_>, rng: &mut StdRng, n: usize) -> Vec<Plan> {
    let today = local(w.now).date_naive();
    let day_weights: Vec<f64> = (0..HISTORY_DAYS)
        .map(|back| {
            let d = today - Duration::days(back);
            let ramp = 1.0 + 0.9 * (1.0 - back as f64 / HISTORY_DAYS as f64);
            ramp * if w.cal.is_workday(d) { 1.0 } else { 0.45 }
        })
        .collect();
    let days = WeightedIndex::new(&day_weights).expect("positive weights");
    let per_cat: HashMap<&str, usize> = w.items.iter().fold(HashMap::new(), |mut m, i| {
        *m.entry(i.category.as_str()).or_insert(0) += 1;
        m
    });
    let item_weights: Vec<f64> = w
        .items
        .iter()
        .map(|i| {
            let role = if matches!(i.default_role.as_str(), "station_leader" | "command_room") { 0.5 } else { 1.0 };
            category_weight(&i.category) / per_cat[i.category.as_str()] as f64 * role
        })
        .collect();
    let item_ix = WeightedIndex::new(&item_weights).expect("positive weights");
    let station_ix =
        WeightedIndex::new(&STATION_WEIGHTS[..w.stations.len().min(STATION_WEIGHTS.len())]).expect("positive weights");
    let mut plans = Vec::with_capacity(n);
    for _ in 0..n {
        let station = &w.stations[station_ix.sample(rng)];
        // A few field tasks are placed so that their clock is nearly out now.
        if rng.gen_bool(0.015) {
            let item = loop {
                let i = &w.items[item_ix.sample(rng)];
                if matches!(i.default_role.as_str(), "auxiliary" | "community_officer") {
                    break i;
                }
            };
            if let Some(ds) = due_soon_times(w, rng, item) {
                plans.push(plan_one(w, rng, station, item, ds.created, Some(ds)));
                continue;
            }
        }
        let item = &w.items[item_ix.sample(rng)];
        let created = pick_created(w, &days, rng);
        plans.push(plan_one(w, rng, station, item, created, None));
    }
    ensure_spread(&mut plans, w.now, (n / 100).max(2));
    plans
}

/// The state a plan ends in.
fn final_state(p: &Plan) -> &'static str {
    p.steps.last().map_or("draft", |s| state_after(s.action))
}

fn state_after(action: &str) -> &'static str {
    match action {
        "dispatch" | "reassign" => "dispatched",
        "refuse" => "refused",
        "accept" => "accepted",
        "start" | "return" => "in_progress",
        "submit_feedback" => "feedback_submitted",
        "evaluate" => "evaluated",
        "cancel" => "cancelled",
        _ => "draft",
    }
}

/// Makes sure every open state the demo shows has at least `min` tasks, by
/// stopping the most recent finished tasks earlier (small samples only).
fn ensure_spread(plans: &mut [Plan], now: DateTime<Utc>, min: usize) {
    let mut recent: Vec<usize> = (0..plans.len()).filter(|&i| now - plans[i].created_at < Duration::days(7)).collect();
    recent.sort_by_key(|&i| std::cmp::Reverse(plans[i].created_at));
    for state in ["draft", "dispatched", "accepted", "in_progress", "feedback_submitted"] {
        let have = plans.iter().filter(|p| final_state(p) == state).count();
        let mut missing = min.saturating_sub(have);
        for &i in &recent {
            if missing == 0 {
                break;
            }
            let p = &mut plans[i];
            if final_state(p) != "evaluated" {
                continue;
            }
            let cut = if state == "draft" {
                Some(0)
            } else {
                p.steps.iter().rposition(|s| state_after(s.action) == state).map(|k| k + 1)
            };
            if let Some(cut) = cut {
                p.steps.truncate(cut);
                missing -= 1;
            }
        }
    }
    // And some are overdue: left unaccepted past the accept limit.
    let unaccepted_overdue = |p: &Plan| {
        p.steps.last().is_some_and(|s| s.action == "dispatch" && s.at + Duration::hours(p.accept_hours) < now)
    };
    let have = plans.iter().filter(|p| unaccepted_overdue(p)).count();
    let mut missing = min.saturating_sub(have);
    for &i in &recent {
        if missing == 0 {
            break;
        }
        let p = &mut plans[i];
        if final_state(p) != "evaluated" {
            continue;
        }
        let Some(k) = p.steps.iter().rposition(|s| s.action == "dispatch") else {
            continue;
        };
        if p.steps[k].at + Duration::hours(p.accept_hours) < now {
            p.steps.truncate(k + 1);
            missing -= 1;
        }
    }
}

fn limits_of(item: &CatalogueItem) -> PhaseLimits {
    PhaseLimits {
        accept_hours: u32::try_from(item.accept_hours).unwrap_or(24),
        finish_workdays: u32::try_from(item.finish_workdays).unwrap_or(3),
    }
}

/// Moments of a task whose running clock is 83–97 % used up at `now`.
struct DueSoon {
    created: DateTime<Utc>,
    dispatch: DateTime<Utc>,
    /// (accepted, started); None: still waiting to be accepted.
    accept_start: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

fn due_soon_times(w: &World<'_>, rng: &mut StdRng, item: &CatalogueItem) -> Option<DueSoon> {
    let f = rng.gen_range(0.83..0.97);
    let daytime = |t: DateTime<Utc>| (7..22).contains(&local(t).hour());
    if item.accept_hours >= 4 && rng.gen_bool(0.4) {
        let dispatch = w.now - minutes(item.accept_hours as f64 * 60.0 * f);
        if daytime(dispatch) {
            return Some(DueSoon {
                created: dispatch - minutes(rng.gen_range(10.0..40.0)),
                dispatch,
                accept_start: None,
            });
        }
    }
    let limits = limits_of(item);
    for k in 1..(48 * 60) {
        let accepted = w.now - Duration::minutes(30 * k);
        let deadline = next_clock(&[Effect::StartFinishClock], None, accepted, limits, None, w.cal)?.deadline_at;
        let window = (deadline - accepted).num_minutes() as f64;
        let used = (w.now - accepted).num_minutes() as f64 / window.max(1.0);
        if used > 0.995 {
            return None;
        }
        if used >= f && daytime(accepted) {
            let created = accepted - minutes(rng.gen_range(40.0..180.0));
            let dispatch = created + minutes(rng.gen_range(5.0..30.0));
            let started = accepted + (w.now - accepted) / 4;
            return Some(DueSoon { created, dispatch, accept_start: Some((accepted, started)) });
        }
    }
    None
}

fn plan_one(
    w: &World<'_>,
    rng: &mut StdRng,
    st: &Station,
    item: &CatalogueItem,
    created: DateTime<Utc>,
    due_soon: Option<DueSoon>,
) -> Plan {
    let di = rng.gen_range(0..st.districts.len());
    let d = &st.districts[di];
    let role = item.default_role.as_str();
    let station_level = matches!(role, "station_leader" | "command_room") || rng.gen_bool(0.15);
    let org_code = if station_level { st.code.clone() } else { d.code.clone() };

    // Place and title.
    let words = landmark_words(item);
    let unfit: &[&str] = if d.rural { URBAN_ONLY } else { RURAL_ONLY };
    let pool: Vec<&String> = st
        .landmarks
        .iter()
        .chain(w.landmarks.iter())
        .filter(|l| words.iter().any(|k| l.contains(k)) && !unfit.contains(&l.as_str()))
        .collect();
    let proper = |l: &str| st.landmarks.iter().any(|x| x == l);
    let road = if !st.roads.is_empty() && rng.gen_bool(0.6) {
        st.roads.choose(rng).cloned().unwrap_or_default()
    } else {
        w.roads.choose(rng).cloned().unwrap_or_default()
    };
    let use_village = d.rural || item.category == "溺水防范" || item.name.contains('村') || rng.gen_bool(0.35);
    let area = if use_village { d.village.clone() } else { road };
    let place = if station_titled(item) {
        st.short.clone()
    } else if !pool.is_empty() && rng.gen_bool(0.8) {
        let l = pool.choose(rng).map(|s| s.as_str()).unwrap_or_default();
        if item.name.contains(l) {
            area
        } else if proper(l) {
            l.to_string()
        } else {
            format!("{area}{l}")
        }
    } else {
        area
    };
    let title = if station_titled(item) {
        format!("{}{}{}", st.name, item.name, period_suffix(&item.name, created))
    } else {
        format!("{place}{}{}", item.name, period_suffix(&item.name, created))
    };
    let lead = LEADS.choose(rng).expect("non-empty");
    let description = if station_titled(item) {
        format!("{lead}，组织开展{}，{}", item.name, category_extra(&item.category))
    } else {
        format!("{lead}，对{place}开展{}，{}", item.name, category_extra(&item.category))
    };
    let point = if station_level && !matches!(role, "station_leader" | "command_room") {
        jitter(st.centre, 1.5, rng)
    } else if station_level {
        jitter(st.centre, 0.15, rng)
    } else {
        jitter(d.centre, 0.55, rng)
    };

    // Who does it.
    let (mut assignee, partner): (String, Option<String>) = match (item.code.as_str(), role) {
        ("ZF-MD-007", _) => (w.hotline.to_string(), Some(w.hotline.to_string())),
        ("ZF-MD-010", _) if st.sifa.is_some() && rng.gen_bool(0.6) => {
            (st.sifa.clone().unwrap_or_default(), st.sifa.clone())
        }
        ("ZF-MD-006", _) if st.gov.is_some() && rng.gen_bool(0.6) => {
            (st.gov.clone().unwrap_or_default(), st.gov.clone())
        }
        (_, "station_leader") => (st.leader.clone(), None),
        (_, "command_room") => (st.command.clone(), None),
        (_, "auxiliary") => (if rng.gen_bool(0.85) { d.aux.clone() } else { d.officer.clone() }, None),
        _ => (if rng.gen_bool(0.85) { d.officer.clone() } else { d.aux.clone() }, None),
    };
    let field_work = partner.is_none() && matches!(role, "auxiliary" | "community_officer");
    let creator = if assignee == st.command {
        st.leader.clone()
    } else if assignee == st.leader || rng.gen_bool(0.7) {
        st.command.clone()
    } else {
        st.leader.clone()
    };
    let evaluator = if assignee == st.leader { st.branch_leader.clone() } else { st.leader.clone() };
    let due_at = (due_soon.is_none() && field_work && rng.gen_bool(0.1)).then(|| {
        let day = local(created).date_naive() + Duration::days(item.finish_workdays + 2);
        at_local(day, 18, 0)
    });
    let input = CreateTask {
        title,
        description: Some(description),
        catalogue_code: item.code.clone(),
        org_unit: org_code,
        location: Wgs84Point::new(point.0, point.1).ok(),
        due_at,
    };

    // The intended course, cut at `now` afterwards.
    let age_days = (w.now - created).num_hours() as f64 / 24.0;
    let recent = age_days < 14.0;
    let limits = limits_of(item);
    let mut steps: Vec<Step> = vec![];
    let mut t = created;
    let plan = |steps: Vec<Step>, input: CreateTask| Plan {
        created_at: created,
        accept_hours: item.accept_hours,
        creator: creator.clone(),
        input,
        steps,
    };

    if let Some(ds) = due_soon {
        push(&mut steps, &mut t, ds.dispatch, &creator, "dispatch");
        steps.last_mut().expect("pushed").assignee = Some(assignee.clone());
        if let Some((accepted, started)) = ds.accept_start {
            push(&mut steps, &mut t, accepted, &assignee, "accept");
            push(&mut steps, &mut t, started, &assignee, "start");
        }
        return finish(plan(steps, input), w.now);
    }
    if age_days < 5.0 && rng.gen_bool(0.16) {
        return plan(steps, input); // still being drafted
    }
    if rng.gen_bool(0.008) {
        let at = waking(t + minutes(rng.gen_range(30.0..1440.0)), rng);
        push(&mut steps, &mut t, at, &creator, "cancel");
        steps.last_mut().expect("pushed").note = CANCEL_NOTES.choose(rng).map(|s| s.to_string());
        return finish(plan(steps, input), w.now);
    }
    let at = waking(t + minutes(rng.gen_range(4.0..100.0)), rng);
    push(&mut steps, &mut t, at, &creator, "dispatch");
    steps.last_mut().expect("pushed").assignee = Some(assignee.clone());
    let accept_window = (item.accept_hours * 60) as f64;

    if field_work && rng.gen_bool(0.04) {
        let at = waking(t + minutes(rng.gen_range(5.0..(accept_window * 0.5).max(10.0))), rng);
        push(&mut steps, &mut t, at, &assignee, "refuse");
        steps.last_mut().expect("pushed").note = REFUSE_NOTES.choose(rng).map(|s| s.to_string());
        // Someone else: the district's other person, or (station-level
        // tasks) a neighbouring district's.
        let others: Vec<&District> = st.districts.iter().filter(|x| x.code != d.code).collect();
        let other = match others.choose(rng) {
            Some(o) if station_level && rng.gen_bool(0.5) => {
                if assignee == d.aux {
                    o.aux.clone()
                } else {
                    o.officer.clone()
                }
            }
            _ if assignee == d.officer => d.aux.clone(),
            _ => d.officer.clone(),
        };
        assignee = other;
        let at = waking(t + minutes(rng.gen_range(10.0..180.0)), rng);
        push(&mut steps, &mut t, at, &creator, "dispatch");
        steps.last_mut().expect("pushed").assignee = Some(assignee.clone());
    }
    if rng.gen_bool(0.017) {
        let at = waking(t + minutes(rng.gen_range(20.0..600.0)), rng);
        push(&mut steps, &mut t, at, &creator, "cancel");
        steps.last_mut().expect("pushed").note = CANCEL_NOTES.choose(rng).map(|s| s.to_string());
        return finish(plan(steps, input), w.now);
    }
    let stall_dispatched = rng.gen_bool(if recent { 0.08 } else { 0.004 });
    let stall_started = rng.gen_bool(if recent { 0.1 } else { 0.008 });
    if stall_dispatched {
        return finish(plan(steps, input), w.now);
    }
    let late_accept = rng.gen_bool(0.08);
    let share = if late_accept { rng.gen_range(1.05..2.5) } else { rng.gen_range(0.03..0.75) };
    let at = waking(t + minutes(accept_window * share), rng);
    push(&mut steps, &mut t, at, &assignee, "accept");
    let accepted = t;
    let deadline = |from: DateTime<Utc>| {
        next_clock(&[Effect::StartFinishClock], None, from, limits, due_at, w.cal)
            .map(|c| c.deadline_at)
            .unwrap_or(from)
    };
    let window = (deadline(accepted) - accepted).num_minutes().max(60) as f64;
    let at = waking(accepted + minutes(window * rng.gen_range(0.02..0.25)), rng);
    push(&mut steps, &mut t, at, &assignee, "start");
    if stall_started {
        return finish(plan(steps, input), w.now);
    }
    let late = rng.gen_bool(0.1);
    let share = if late { rng.gen_range(1.03..1.5) } else { rng.gen_range(0.3..0.95) };
    let at = waking(accepted + minutes(window * share), rng);
    push(&mut steps, &mut t, at, &assignee, "submit_feedback");
    let place_text = if station_titled(item) { st.name.clone() } else { place.clone() };
    {
        let s = steps.last_mut().expect("pushed");
        s.note = Some(feedback_note(&item.category, &place_text, partner.as_deref(), rng));
        s.location = (partner.is_none()).then(|| jitter(point, 0.05, rng));
        s.report = field_report(&item.activity, &place_text, rng);
    }
    let rework = rng.gen_bool(0.08);
    if rework {
        let at = waking(t + minutes(rng.gen_range(60.0..1800.0)), rng);
        push(&mut steps, &mut t, at, &evaluator, "return");
        steps.last_mut().expect("pushed").note = RETURN_NOTES.choose(rng).map(|s| s.to_string());
        let back = t;
        let window2 = (deadline(back) - back).num_minutes().max(60) as f64;
        let at = waking(back + minutes(window2 * rng.gen_range(0.1..0.6)), rng);
        push(&mut steps, &mut t, at, &assignee, "submit_feedback");
        let s = steps.last_mut().expect("pushed");
        s.note = REWORK_NOTES.choose(rng).map(|s| s.to_string());
        s.location = (partner.is_none()).then(|| jitter(point, 0.05, rng));
    }
    let r: f64 = rng.gen_range(0.0..1.0);
    let delay = if r < 0.55 {
        rng.gen_range(60.0..1200.0)
    } else if r < 0.9 {
        rng.gen_range(1200.0..4320.0)
    } else {
        rng.gen_range(4320.0..8640.0)
    };
    let at = waking(t + minutes(delay), rng);
    push(&mut steps, &mut t, at, &evaluator, "evaluate");
    let r: f64 = rng.gen_range(0.0..1.0);
    let mut score = if r < 0.58 {
        5
    } else if r < 0.9 {
        4
    } else {
        3
    };
    if (late || late_accept || rework) && score > 3 && rng.gen_bool(0.5) {
        score -= 1;
    }
    {
        let comment = eval_comment(score, rng);
        let s = steps.last_mut().expect("pushed");
        s.score = Some(score);
        s.note = comment;
    }
    finish(plan(steps, input), w.now)
}

/// Appends a step at least a minute after the previous one.
fn push(steps: &mut Vec<Step>, t: &mut DateTime<Utc>, at: DateTime<Utc>, actor: &str, action: &'static str) {
    let at = at.max(*t + Duration::minutes(1));
    *t = at;
    steps.push(Step {
        at,
        actor: actor.to_string(),
        action,
        assignee: None,
        note: None,
        score: None,
        location: None,
        report: None,
    });
}

/// Problems a patrol or visit turns up now and then (each can become a hazard or a dispute).
const FIELD_PROBLEMS: [&str; 8] = [
    "楼道堆放杂物，堵塞消防通道",
    "河边护栏缺损，无防溺水警示牌",
    "出租屋电动车室内充电",
    "工地围挡破损，夜间无照明",
    "校门口路段减速带损坏",
    "两户因停车位多次争吵",
    "商铺私拉电线",
    "邻里因噪音发生口角",
];

/// The structured part of a patrol's or a visit's feedback: places or
/// households visited, and sometimes a problem found.
fn field_report(activity: &str, place: &str, rng: &mut StdRng) -> Option<zhufang_domain::task::FieldReport> {
    let spots: [&str; 5] = ["沿街商铺", "小区出入口", "背街小巷", "出租屋集中区", "学校周边"];
    let visited: Vec<String> = match activity {
        "patrol" => {
            let n = rng.gen_range(1..=3);
            spots.choose_multiple(rng, n).map(|s| format!("{place}{s}")).collect()
        }
        "visit" => (0..rng.gen_range(1..=3))
            .map(|_| format!("{place}{}栋{}单元", rng.gen_range(1..=20), rng.gen_range(1..=4)))
            .collect(),
        _ => return None,
    };
    let households = (activity == "visit").then(|| rng.gen_range(3..=15));
    let problems = if rng.gen_bool(0.12) {
        FIELD_PROBLEMS.choose(rng).map(|p| vec![p.to_string()]).unwrap_or_default()
    } else {
        vec![]
    };
    Some(zhufang_domain::task::FieldReport { visited, households, problems })
}

/// (type, what was found) of the demo hazards.
const HAZARDS: [(&str, &str); 16] = [
    ("01", "废弃鱼塘边坡陡峭，无护栏、无警示牌"),
    ("01", "河湾深水区常有学生玩水，警示牌缺失"),
    ("01", "水库泄洪口护栏锈断"),
    ("02", "工地围挡破损，夜间无照明"),
    ("02", "基坑临边防护不到位"),
    ("03", "校门口路段减速带损坏，上下学时段车流混杂"),
    ("03", "学校周边流动摊贩占道经营"),
    ("04", "楼道堆放杂物，堵塞消防通道"),
    ("04", "商铺私拉电线，灭火器过期"),
    ("05", "急弯路段无警示标志和反光镜"),
    ("05", "路口信号灯损坏"),
    ("06", "加油站旁违规储存桶装汽油"),
    ("07", "出租屋电动车室内充电"),
    ("07", "群租房隔断用易燃材料，无逃生通道"),
    ("99", "废弃厂房无人看管，门窗破损"),
    ("99", "山体边坡有落石迹象"),
];

/// A demo hazard: found by someone at a time, then its steps (time, who, action).
#[derive(Debug, Clone)]
struct HazardPlan {
    found_at: DateTime<Utc>,
    finder: String,
    input: zhufang_store::hazards::CreateHazard,
    steps: Vec<(DateTime<Utc>, String, zhufang_store::hazards::HazardAction)>,
}

/// A station's campaign begun at a time, and steps on its check tasks (time, the
/// n-th check, action); checks that the campaign did not make are skipped.
#[derive(Debug, Clone)]
struct CampaignPlan {
    at: DateTime<Utc>,
    leader: String,
    input: zhufang_store::hazards::CampaignInput,
    steps: Vec<(DateTime<Utc>, usize, &'static str)>,
}

/// Hazards found over the last 45 days and how they went (assigned to the
/// station or the town government, signed for, rectified — some late, some
/// failing a recheck — rechecked and closed, as far as the past goes); and a
/// winter fire-safety campaign per station begun three days ago with half of
/// its checks done. Replayed in time order with the rest of the history.
fn plan_hazards(
    stations: &[Station],
    users: &HashMap<String, User>,
    rng: &mut StdRng,
    n: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<(Vec<HazardPlan>, Vec<CampaignPlan>)> {
    use zhufang_store::hazards::{CampaignInput, CreateHazard, HazardAction};
    if n == 0 || stations.is_empty() {
        return Ok((vec![], vec![]));
    }
    let mut plans = vec![];
    for i in 0..n {
        let st = &stations[i % stations.len()];
        let d = st.districts.choose(rng).context("a district")?;
        // the first two of every station are recent fire risks, for the campaign to check
        let recent_fire = i < 2 * stations.len();
        let (type_code, text) = if recent_fire {
            HAZARDS.iter().filter(|h| matches!(h.0, "04" | "07")).copied().collect::<Vec<_>>().choose(rng).copied()
        } else {
            HAZARDS.choose(rng).copied()
        }
        .context("a hazard")?;
        let days_ago = if recent_fire { rng.gen_range(5..10) } else { rng.gen_range(1..45) };
        let found_at = waking(now - Duration::days(days_ago) + minutes(rng.gen_range(0.0..600.0)), rng);
        let finder = if rng.gen_bool(0.5) { d.officer.clone() } else { d.aux.clone() };
        let (lat, lon) = jitter(d.centre, 0.6, rng);
        let input = CreateHazard {
            type_code: type_code.into(),
            description: text.into(),
            location: Wgs84Point::new(lat, lon).ok(),
            near_school: type_code == "03" || rng.gen_bool(0.15),
            people_affected: Some(*[0, 5, 20, 60, 200].choose(rng).unwrap_or(&0)),
            likelihood: Some(rng.gen_range(2..=4)),
            ..Default::default()
        };
        let town = st.gov.as_deref().filter(|_| matches!(type_code, "02" | "05" | "99") && rng.gen_bool(0.7));
        let (responsible, body) = match town {
            Some(g) => (users.get(g).with_context(|| format!("demo user {g}"))?.org_code.clone(), g.to_string()),
            None => (st.code.clone(), d.officer.clone()),
        };
        let act = |action: &str, note: Option<&str>| HazardAction {
            action: action.into(),
            note: note.map(str::to_string),
            ..Default::default()
        };
        let mut t = found_at;
        let mut steps = vec![];
        let mut at = |hours: f64, rng: &mut StdRng| {
            t = waking(t + minutes(hours * 60.0 * rng.gen_range(0.5..1.5)), rng);
            t
        };
        let days = rng.gen_range(3..15);
        let assigned = at(6.0, rng);
        let assign = HazardAction {
            responsible: Some(responsible),
            deadline: Some(zhufang_domain::calendar::local_date(assigned) + chrono::Days::new(days)),
            ..act("assign", None)
        };
        steps.push((assigned, st.leader.clone(), assign));
        steps.push((at(12.0, rng), body.clone(), act("sign_for", None)));
        let late = rng.gen_bool(0.15);
        steps.push((
            at(24.0 * days as f64 * if late { 1.4 } else { 0.6 }, rng),
            body.clone(),
            act("rectify", Some("已按要求整改完毕")),
        ));
        if rng.gen_bool(0.15) {
            steps.push((at(20.0, rng), d.officer.clone(), act("recheck_fail", Some("复查发现整改不彻底，请继续整改"))));
            steps.push((at(48.0, rng), body.clone(), act("rectify", Some("已补充整改"))));
        }
        steps.push((at(20.0, rng), d.officer.clone(), act("recheck_pass", Some("现场复查合格"))));
        steps.push((at(24.0, rng), st.leader.clone(), act("close", None)));
        steps.retain(|s| s.0 < now);
        plans.push(HazardPlan { found_at, finder, input, steps });
    }
    let begun = now - Duration::days(3);
    let mut campaigns = vec![];
    for st in stations {
        let input = CampaignInput {
            name: "冬春火灾防控专项行动".into(),
            type_codes: vec!["04".into(), "07".into()],
            org_code: Some(st.code.clone()),
            starts_on: Some(zhufang_domain::calendar::local_date(begun)),
            ends_on: Some(zhufang_domain::calendar::local_date(now) + chrono::Days::new(16)),
        };
        let mut steps = vec![];
        for check in (0..12).step_by(2) {
            let mut at = begun;
            for action in ["accept", "start", "submit_feedback"] {
                at = waking(at + Duration::hours(rng.gen_range(2..30)), rng);
                steps.push((at, check, action));
            }
        }
        steps.retain(|s| s.0 < now);
        campaigns.push(CampaignPlan { at: begun, leader: st.leader.clone(), input, steps });
    }
    Ok((plans, campaigns))
}

/// Drops the steps that lie in the future of `now`.
fn finish(mut p: Plan, now: DateTime<Utc>) -> Plan {
    if let Some(cut) = p.steps.iter().position(|s| s.at >= now) {
        p.steps.truncate(cut);
    }
    p
}

// ---------------------------------------------------------------- replay

/// Everything the demo's past is made of, planned ahead and replayed in time order.
struct History<'a> {
    tasks: &'a [Plan],
    disputes: &'a [DisputePlan],
    hazards: &'a (Vec<HazardPlan>, Vec<CampaignPlan>),
    volunteers: &'a [VolunteerStep],
    incidents: &'a [IncidentPlan],
}

/// Runs the plans in time order. Returns the numbers of tasks and incidents created.
async fn replay(
    store: &dyn Store,
    wf: &Workflow,
    cal: &WorkCalendar,
    users: &HashMap<String, User>,
    history: &History<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<(usize, usize)> {
    let History { tasks: plans, disputes, hazards: (hazards, campaigns), volunteers, incidents } = *history;
    // (time, kind, item, step): kind 0 a task, 1 a dispute, 2 a hazard, 3 a
    // campaign, 4 a volunteer sign-up or attendance, 5 an incident; step 0 =
    // create, k = steps[k - 1].
    let mut events: Vec<(DateTime<Utc>, u8, usize, usize)> = vec![];
    for (i, p) in incidents.iter().enumerate() {
        events.push((p.input.received_at.unwrap_or(now), 5, i, 0));
        events.extend(p.steps.iter().enumerate().map(|(k, s)| (s.0, 5, i, k + 1)));
    }
    let iwf = store.workflow(zhufang_domain::incident::WORKFLOW).await?;
    let incident_rules = zhufang_store::incidents::Rules { wf: &iwf, cal, outbox: false };
    let mut incident_ids: Vec<Option<i64>> = vec![None; incidents.len()];
    for (i, p) in plans.iter().enumerate() {
        events.push((p.created_at, 0, i, 0));
        events.extend(p.steps.iter().enumerate().map(|(k, s)| (s.at, 0, i, k + 1)));
    }
    for (i, p) in disputes.iter().enumerate() {
        events.push((p.created_at, 1, i, 0));
        events.extend(p.steps.iter().enumerate().map(|(k, s)| (s.0, 1, i, k + 1)));
    }
    for (i, p) in hazards.iter().enumerate() {
        events.push((p.found_at, 2, i, 0));
        events.extend(p.steps.iter().enumerate().map(|(k, s)| (s.0, 2, i, k + 1)));
    }
    for (i, p) in campaigns.iter().enumerate() {
        events.push((p.at, 3, i, 0));
        events.extend(p.steps.iter().enumerate().map(|(k, s)| (s.0, 3, i, k + 1)));
    }
    let hwf = store.workflow(zhufang_domain::hazard::WORKFLOW).await?;
    let mut hazard_ids: Vec<Option<i64>> = vec![None; hazards.len()];
    let mut checks: Vec<Vec<i64>> = vec![vec![]; campaigns.len()];
    events.extend(volunteers.iter().enumerate().map(|(i, v)| (v.at, 4, i, 0)));
    events.sort_by_key(|e| (e.0, e.1, e.2, e.3));
    let mut signups: HashMap<(i64, i64), i64> = HashMap::new();
    let dwf = store.workflow(zhufang_domain::dispute::WORKFLOW).await?;
    let flows = zhufang_store::disputes::Flows { dispute: &dwf, task: wf, cal };
    let mut dispute_ids: Vec<Option<i64>> = vec![None; disputes.len()];
    let user = |name: &str| users.get(name).with_context(|| format!("demo user {name}"));
    let mut ids: Vec<Option<i64>> = vec![None; plans.len()];
    let mut created = 0usize;
    let mut next_scan = events.first().map(|e| e.0).unwrap_or(now);
    // Notices older than this are taken as read.
    let read_cutoff = now - Duration::hours(36);
    // Tasks are routed to grids the way live writes are (none until grids are imported).
    let router = service::GridRouter::from_records(&store.grids(None).await?);
    let mut read_done = false;
    let mut usernames: Vec<&String> = users.keys().collect();
    usernames.sort();
    for (at, kind, i, k) in events {
        if at >= next_scan {
            let hour = at - Duration::seconds(i64::from(at.minute() * 60 + at.second()));
            service::scan_deadlines(store, hour).await?;
            zhufang_store::incidents::scan_hand_overs(store, hour).await?;
            next_scan = hour + Duration::hours(1);
        }
        if !read_done && at >= read_cutoff {
            for u in &usernames {
                store.mark_read(user(u)?.id, None, read_cutoff).await?;
            }
            read_done = true;
        }
        if kind == 2 {
            use zhufang_store::hazards;
            let p = &hazards[i];
            let e = |e: zhufang_store::service::ServiceError| {
                anyhow::anyhow!("demo hazard «{}»: {e:?}", p.input.description)
            };
            if k == 0 {
                let h = hazards::create(store, &router, user(&p.finder)?, p.input.clone(), at).await.map_err(e)?;
                hazard_ids[i] = Some(h.id);
            } else {
                let (_, who, a) = &p.steps[k - 1];
                let id = hazard_ids[i].context("hazard found before its steps")?;
                hazards::transition(store, &hwf, user(who)?, id, a.clone(), at).await.map_err(e)?;
            }
            continue;
        }
        if kind == 3 {
            let p = &campaigns[i];
            if k == 0 {
                let r = zhufang_store::hazards::start_campaign(store, wf, cal, user(&p.leader)?, p.input.clone(), at)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo campaign: {e:?}"))?;
                checks[i] = r.task_ids;
            } else {
                let (_, n, action) = p.steps[k - 1];
                let Some(&id) = checks[i].get(n) else { continue };
                let t = store.task(id).await?.context("a check task")?;
                let who = t.assignee.clone().context("a check's assignee")?;
                let input = TransitionInput {
                    action: action.into(),
                    note: (action == "submit_feedback")
                        .then(|| "现场检查：消防通道畅通，灭火器在有效期内，已拍照".to_string()),
                    ..Default::default()
                };
                service::transition(store, wf, cal, user(&who)?, id, input, at)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo check {id}: {action}: {e:?}"))?;
            }
            continue;
        }
        if kind == 5 {
            use zhufang_store::incidents;
            let p = &incidents[i];
            let e = |e: service::ServiceError| anyhow::anyhow!("demo incident «{}»: {e:?}", p.input.description);
            if k == 0 {
                let inc = incidents::create(store, &router, user(&p.creator)?, p.input.clone(), at).await.map_err(e)?;
                incident_ids[i] = Some(inc.id);
            } else {
                let (_, who, a) = &p.steps[k - 1];
                let id = incident_ids[i].context("incident received before its steps")?;
                incidents::transition(store, &incident_rules, user(who)?, id, a.clone(), at).await.map_err(e)?;
            }
            continue;
        }
        if kind == 4 {
            volunteer_step(store, user(&volunteers[i].by)?, &volunteers[i], &mut signups, at).await?;
            continue;
        }
        if kind == 1 {
            let p = &disputes[i];
            if k == 0 {
                let d = zhufang_store::disputes::create(store, &router, user(&p.registrar)?, p.input.clone(), at)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo dispute «{}»: {e:?}", p.input.title))?;
                dispute_ids[i] = Some(d.id);
            } else {
                let (_, who, s) = &p.steps[k - 1];
                let id = dispute_ids[i].context("dispute registered before its steps")?;
                dispute_event(store, &flows, id, user(who)?, s, at).await?;
            }
            continue;
        }
        let p = &plans[i];
        if k == 0 {
            let t = service::create_task(store, &router, user(&p.creator)?, p.input.clone(), at)
                .await
                .map_err(|e| anyhow::anyhow!("creating demo task «{}»: {e:?}", p.input.title))?;
            ids[i] = Some(t.id);
            created += 1;
            if created.is_multiple_of(500) {
                tracing::info!(created, "demo tasks");
            }
            continue;
        }
        let s = &p.steps[k - 1];
        let id = ids[i].context("task created before its steps")?;
        let input = TransitionInput {
            action: s.action.to_string(),
            assignee: s.assignee.clone(),
            note: s.note.clone(),
            score: s.score,
            version: None,
            location: s.location.and_then(|(lat, lon)| Wgs84Point::new(lat, lon).ok()),
            attachments: vec![],
            report: s.report.clone(),
        };
        service::transition(store, wf, cal, user(&s.actor)?, id, input, at)
            .await
            .map_err(|e| anyhow::anyhow!("demo task {id} «{}»: {} by {}: {e:?}", p.input.title, s.action, s.actor))?;
    }
    if !read_done {
        for u in &usernames {
            store.mark_read(user(u)?.id, None, read_cutoff).await?;
        }
    }
    // Flag what is due soon or overdue right now (500 per round).
    loop {
        let (soon, overdue) = service::scan_deadlines(store, now).await?;
        if soon + overdue == 0 {
            break;
        }
    }
    Ok((created, incident_ids.iter().flatten().count()))
}

// ---------------------------------------------------------------- incidents

/// (type code, what the caller said, a police matter, the agency for a non-police one: hotline or 司法所)
const INCIDENT_KINDS: [(&str, &str, bool, bool); 14] = [
    ("0201", "两人在{place}门口发生争执，一方动手推搡", true, false),
    ("0202", "{place}附近有人酒后滋事，大声吵闹", true, false),
    ("0207", "在{place}被盗电动车一辆", true, false),
    ("010201", "接到自称公安局的电话，要求把钱转到安全账户，已转账", true, false),
    ("0301", "{place}路口两车追尾，无人员受伤，双方争执", true, false),
    ("0501", "家中老人早上出门未归，有认知障碍", true, false),
    ("0502", "{place}附近水塘有小孩落水", true, false),
    ("0403", "夫妻在家中吵架，女方要求民警到场", true, true),
    ("0404", "楼上装修噪声扰民，协商不成发生口角", true, true),
    ("0304", "车辆堵住{place}出口，联系不上车主，请求挪车", false, false),
    ("0801", "{place}路灯坏了好几天，晚上很黑", false, false),
    ("0804", "小区物业长期不清运垃圾，楼道堆满杂物", false, false),
    ("0405", "在{place}工地干活，老板拖欠工资三个月", false, true),
    ("0902", "咨询办理居住证需要哪些材料", false, false),
];

/// One call of the demo's month and what became of it: each step, by whom, when.
struct IncidentPlan {
    creator: String,
    input: zhufang_store::incidents::CreateIncident,
    steps: Vec<(DateTime<Utc>, String, zhufang_store::incidents::IncidentAction)>,
}

/// Seconds drawn from a few bands: `(share in %, from, to)`.
fn banded(rng: &mut StdRng, bands: &[(u32, i64, i64)]) -> i64 {
    let roll = rng.gen_range(0..100);
    let mut acc = 0;
    for &(share, lo, hi) in bands {
        acc += share;
        if roll < acc {
            return rng.gen_range(lo..hi);
        }
    }
    let &(_, lo, hi) = bands.last().expect("a band");
    rng.gen_range(lo..hi)
}

/// A month of calls, replayed through the incident service in time order
/// with the rest of the history, so every incident has its timeline (who
/// triaged, dispatched, arrived, handled; which agency signed for it, did it,
/// and the call-back rating) and its time limits on the working-day calendar.
/// Police matters are dispatched, attended (most within minutes, rural ones
/// later, a few late) and closed, mostly on site; non-police ones are diverted
/// to the 12345 centre or the 司法所, which now and then returns one as not
/// its matter, or signs for it late (and the command room is told); some
/// callers ring again within the hour (flagged as repeat calls); the latest
/// are still open. Its own RNG, so the rest of the city is as it was.
fn plan_incidents(
    stations: &[Station],
    users: &HashMap<String, User>,
    opts: &SeedOptions,
    n: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<IncidentPlan>> {
    use zhufang_store::incidents::{CreateIncident, IncidentAction};
    let rng = &mut StdRng::seed_from_u64(opts.rng_seed ^ 0x696e_6369);
    if stations.is_empty() {
        return Ok(vec![]);
    }
    let org_of = |username: &str| users.get(username).map(|u| u.org_code.clone());
    let places = ["菜市场", "滨江路", "学校", "小区", "汽车站", "广场", "商场", "工业园"];
    let act = |action: &str| IncidentAction { action: action.into(), ..Default::default() };
    let mut plans: Vec<IncidentPlan> = vec![];
    // on the go right now: a call per station a few minutes old, its officer
    // on the way (or, at every other station, there already)
    for (si, st) in stations.iter().enumerate().take(n) {
        let d = &st.districts[0];
        let (lat, lon) = jitter(d.centre, 0.4, rng);
        let (code, text, _, _) = INCIDENT_KINDS[si % 3];
        let received_at = now - Duration::seconds(rng.gen_range(360..1500));
        let road = st.roads.first().map_or("人民路", |r| r.as_str());
        let input = CreateIncident {
            channel: "110".into(),
            description: text.replace("{place}", "菜市场"),
            location: Wgs84Point::new(lat, lon).ok(),
            address: Some(format!("{road}{}号（{}）", rng.gen_range(1..300), d.village)),
            caller_name: None,
            caller_phone: Some(format!("13{:09}", rng.gen_range(0..1_000_000_000u64))),
            received_at: Some(received_at),
            type_code: Some(code.into()),
            severity: Some(2),
            station: None,
            external_id: None,
        };
        let mut steps = vec![
            (
                received_at + Duration::seconds(40),
                st.command.clone(),
                IncidentAction { police: Some(true), ..act("triage") },
            ),
            (
                received_at + Duration::seconds(100),
                st.command.clone(),
                IncidentAction { assignee: Some(d.officer.clone()), ..act("dispatch") },
            ),
        ];
        if si % 2 == 1 {
            steps.push((received_at + Duration::seconds(340), d.officer.clone(), act("arrive")));
        }
        steps.retain(|s| s.0 < now);
        plans.push(IncidentPlan { creator: st.command.clone(), input, steps });
    }
    let mut k = 0;
    while plans.len() < n {
        k += 1;
        let st = &stations[rng.gen_range(0..stations.len())];
        let Some(d) = st.districts.choose(rng) else { continue };
        let (lat, lon) = jitter(d.centre, 0.6, rng);
        let (code, text, police, local) = INCIDENT_KINDS[rng.gen_range(0..INCIDENT_KINDS.len())];
        let description = text.replace("{place}", places[rng.gen_range(0..places.len())]);
        let received_at = now - Duration::seconds(rng.gen_range(300..30 * 86_400));
        let address = if d.rural {
            format!("{}{}组", d.village, rng.gen_range(1..13))
        } else {
            let road = st.roads.choose(rng).map_or("人民路", |r| r.as_str());
            format!("{road}{}号（{}）", rng.gen_range(1..300), d.village)
        };
        let phone = format!("13{:09}", rng.gen_range(0..1_000_000_000u64));
        let input = CreateIncident {
            channel: if rng.gen_bool(0.85) { "110" } else { "12345" }.into(),
            description: description.clone(),
            location: Wgs84Point::new(lat, lon).ok(),
            address: Some(address.clone()),
            caller_name: None,
            caller_phone: Some(phone.clone()),
            received_at: Some(received_at),
            type_code: Some(code.into()),
            severity: Some(if code == "0502" || code == "0501" { 3 } else { 1 + i64::from(rng.gen_bool(0.2)) }),
            station: None,
            external_id: None,
        };
        let command = st.command.clone();
        let officer = d.officer.clone();
        let mut t = received_at;
        let mut steps = vec![];
        let mut after = |secs: i64| {
            t += Duration::seconds(secs);
            t
        };
        // 签收: the command room triages within seconds, now and then minutes
        let triage_at = after(banded(rng, &[(70, 15, 60), (25, 60, 150), (5, 150, 400)]));
        steps.push((triage_at, command.clone(), IncidentAction { police: Some(police), ..act("triage") }));
        if police {
            let dispatch = IncidentAction { assignee: Some(officer.clone()), ..act("dispatch") };
            steps.push((after(rng.gen_range(30..120)), command.clone(), dispatch));
            // 到场: most inside five minutes in town; the villages are further
            let mut arrive = banded(rng, &[(60, 120, 270), (25, 270, 480), (10, 480, 900), (5, 900, 1500)]);
            if d.rural {
                arrive = arrive * 13 / 10;
            }
            steps.push((after(arrive), officer.clone(), act("arrive")));
            let result = match rng.gen_range(0..100) {
                0..=84 => "on_site",
                85..=92 => "administrative_case",
                93..=96 => "criminal_case",
                _ => "transferred",
            };
            let handle = IncidentAction { result: Some(result.into()), ..act("handle") };
            let handled = banded(rng, &[(40, 600, 1800), (35, 1800, 3600), (20, 3600, 7200), (5, 7200, 18_000)]);
            steps.push((after(handled), officer.clone(), handle));
            steps.push((after(rng.gen_range(600..3600)), command.clone(), act("close")));
        } else {
            let own = st.sifa.clone().filter(|_| local);
            let first = own.clone().unwrap_or_else(|| HOTLINE.username.to_string());
            let divert = |to: &str| IncidentAction { agency: org_of(to), ..act("divert") };
            steps.push((after(rng.gen_range(30..300)), command.clone(), divert(&first)));
            let mut agency = first;
            // now and then an agency sends a matter back: a 司法所 as not its own
            // (it goes to 12345 instead), 12345 for a missing detail (sent again)
            if rng.gen_bool(0.12) {
                let why = if own.is_some() {
                    "经核实不属于本单位职责范围，请重新分派"
                } else {
                    "地址信息不全，请补充具体门牌后重新派单"
                };
                let back = IncidentAction { note: Some(why.into()), ..act("return") };
                steps.push((after(rng.gen_range(600..5400)), agency.clone(), back));
                let again = IncidentAction { police: Some(false), ..act("triage") };
                steps.push((after(rng.gen_range(300..1800)), command.clone(), again));
                agency = HOTLINE.username.to_string();
                steps.push((after(rng.gen_range(30..300)), command.clone(), divert(&agency)));
            }
            // 签收 within the two hours, but a few late (the scan tells the command room)
            let sign = banded(rng, &[(80, 300, 3600), (14, 3600, 7000), (6, 7400, 21_600)]);
            steps.push((after(sign), agency.clone(), act("sign_for")));
            let done = IncidentAction {
                note: Some("已联系当事人，问题已处理完毕".into()), ..act("agency_done")
            };
            steps.push((after(rng.gen_range(86_400..6 * 86_400)), agency, done));
            let rating = [1, 1, 1, 1, 1, 2, 2, 2, 3, 4][rng.gen_range(0..10)];
            let close = IncidentAction { rating: Some(rating), note: Some("已回访".into()), ..act("close") };
            steps.push((after(rng.gen_range(3600..2 * 86_400)), command.clone(), close));
        }
        steps.retain(|s| s.0 < now);
        plans.push(IncidentPlan { creator: command.clone(), input, steps });
        // 重复报警: some callers ring again before anyone is there
        if k % 14 == 0 && plans.len() < n {
            let again_at = received_at + Duration::seconds(rng.gen_range(180..2400));
            if again_at < now {
                let input = CreateIncident {
                    description: format!("再次来电催促：{description}"),
                    received_at: Some(again_at),
                    ..plans.last().expect("just pushed").input.clone()
                };
                let mut steps = vec![(
                    again_at + Duration::seconds(rng.gen_range(15..90)),
                    command.clone(),
                    IncidentAction { police: Some(police), ..act("triage") },
                )];
                steps.push((
                    steps[0].0 + Duration::seconds(rng.gen_range(20..120)),
                    command.clone(),
                    IncidentAction { note: Some("重复报警，已并入前警处置".into()), ..act("invalidate") },
                ));
                steps.retain(|s| s.0 < now);
                plans.push(IncidentPlan { creator: command, input, steps });
            }
        }
    }
    Ok(plans)
}

// ---------------------------------------------------------------- volunteers

/// A planned sign-up (`mark` None) or attendance mark of the volunteer history.
struct VolunteerStep {
    at: DateTime<Utc>,
    /// Who does it (username): the station's leader signs up, the post's officer marks.
    by: String,
    shift_id: i64,
    volunteer_id: i64,
    mark: Option<&'static str>,
}

/// 群防群治: six volunteers per station (fictional names, phones in the 170
/// range), a school gate (护学岗, mornings and afternoons on school days) and
/// an evening 义警 patrol post (Friday to Sunday), made when the city is set
/// up; then the plan of sign-ups over the last two weeks and the next one and
/// the attendance the post's officer marked, which the replay carries out in
/// time order. Its own RNG, so the rest of the city is as it was.
#[allow(clippy::too_many_arguments)]
async fn plan_volunteers(
    store: &dyn Store,
    stations: &[Station],
    users: &HashMap<String, User>,
    names: &Names,
    opts: &SeedOptions,
    cal: &WorkCalendar,
    setup: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<(usize, Vec<VolunteerStep>)> {
    use zhufang_store::volunteers::{self as vols, PostInput, VolunteerInput};
    let router = &service::GridRouter::from_records(&store.grids(None).await?);
    const ORGS: [&str; 4] = ["红马甲", "义警", "护学家长", "平安志愿者"];
    let rng = &mut StdRng::seed_from_u64(opts.rng_seed ^ 0x766f_6c75);
    let e = |e: service::ServiceError| anyhow::anyhow!("seeding volunteers: {e:?}");
    let user = |name: &str| users.get(name).with_context(|| format!("demo user {name}"));
    let today = local(now).date_naive();
    let mut count = 0;
    let mut steps = vec![];
    for (si, st) in stations.iter().enumerate() {
        let leader = user(&st.leader)?;
        let mut roster = vec![];
        for k in 0..6 {
            let input = VolunteerInput {
                name: person_name(names, rng),
                phone: Some(format!("170{}{:07}", si % 10, rng.gen_range(0..10_000_000))),
                organisation: ORGS[k % ORGS.len()].into(),
                station: Some(st.code.clone()),
            };
            roster.push(vols::create_volunteer(store, leader, input, setup).await.map_err(e)?.id);
            count += 1;
        }
        let school = st
            .landmarks
            .iter()
            .find(|l| l.ends_with("小学") || l.ends_with("中学"))
            .cloned()
            .unwrap_or_else(|| format!("{}小学", st.short));
        let posts = [
            (format!("{school}护学岗"), format!("{school}校门口"), 0, "1,2,3,4,5", "07:20-08:00,16:30-17:30", true, 2),
            (
                format!("{}集镇义警巡逻岗", st.short),
                format!("{}集镇主街", st.short),
                1,
                "5,6,7",
                "19:00-21:00",
                false,
                3,
            ),
        ];
        for (k, (name, place, d, weekdays, slots, workdays_only, capacity)) in posts.into_iter().enumerate() {
            let district = &st.districts[d % st.districts.len()];
            let officer = &district.officer;
            // near the district's centre (no draw from the random stream: the rest of the city stays as it was)
            let (lat, lon) = (district.centre.0 + 0.0012 * (k as f64 + 1.0), district.centre.1 - 0.0009 * k as f64);
            let input = PostInput {
                name,
                place: Some(place),
                lat: Some(round6(lat)),
                lon: Some(round6(lon)),
                officer: officer.clone(),
                weekdays: Some(weekdays.into()),
                slots: slots.into(),
                workdays_only: Some(workdays_only),
                capacity,
                station: Some(st.code.clone()),
                ..Default::default()
            };
            let post = vols::save_post(store, router, leader, None, input, setup).await.map_err(e)?;
            let from = today - Duration::days(14);
            let (_, shifts) =
                vols::shifts(store, cal, leader, post.id, from, today + Duration::days(6), setup).await.map_err(e)?;
            for s in shifts {
                let n = rng.gen_range(0..=capacity as usize);
                let mut who = roster.clone();
                who.shuffle(rng);
                // a day or two ahead, or just before now for the shifts still to come
                let ahead = s.shift.starts_at - Duration::minutes(rng.gen_range(600..2_880));
                let signed_at = ahead.min(now - Duration::minutes(rng.gen_range(5..600)));
                for v in who.into_iter().take(n) {
                    let step = |at, by: &str, mark| VolunteerStep {
                        at,
                        by: by.to_string(),
                        shift_id: s.shift.id,
                        volunteer_id: v,
                        mark,
                    };
                    steps.push(step(signed_at, &st.leader, None));
                    let marked_at = s.shift.ends_at + Duration::minutes(rng.gen_range(1..90));
                    if marked_at < now {
                        let mark = match rng.gen_range(0..10) {
                            0 => "absent",
                            1 => "late",
                            _ => "present",
                        };
                        steps.push(step(marked_at, officer, Some(mark)));
                    }
                }
            }
        }
    }
    Ok((count, steps))
}

/// One step of the volunteer history, through the service.
async fn volunteer_step(
    store: &dyn Store,
    by: &User,
    s: &VolunteerStep,
    signups: &mut HashMap<(i64, i64), i64>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    use zhufang_store::volunteers as vols;
    let e = |e: service::ServiceError| anyhow::anyhow!("demo volunteer step: {e:?}");
    match s.mark {
        None => {
            let su = vols::sign_up(store, by, s.shift_id, s.volunteer_id, at).await.map_err(e)?;
            signups.insert((s.shift_id, s.volunteer_id), su.id);
        }
        Some(mark) => {
            let id = signups.get(&(s.shift_id, s.volunteer_id)).context("signed up before marked")?;
            vols::mark_attendance(store, by, *id, mark, at).await.map_err(e)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- disputes

fn person_name(names: &Names, rng: &mut StdRng) -> String {
    format!(
        "{}{}",
        names.surnames.choose(rng).map(String::as_str).unwrap_or("王"),
        names.given.choose(rng).map(String::as_str).unwrap_or("某")
    )
}

/// Kinds of dispute the demo registers: (category, title, description, people, amount yuan).
/// (category, title, description, people range, amount range in yuan).
type DisputeKind = (&'static str, &'static str, &'static str, (i64, i64), (i64, i64));

const DISPUTE_KINDS: [DisputeKind; 12] = [
    ("02", "邻里噪音纠纷", "楼上住户夜间装修、走动声响大，楼下多次上门交涉未果，双方在楼道发生口角。", (2, 4), (0, 0)),
    ("02", "邻里排水纠纷", "两户之间的排水沟被一方堵塞，雨天积水倒灌，双方互不相让。", (2, 5), (0, 3_000)),
    ("01", "婚姻家庭纠纷", "夫妻因家庭开支和子女抚养问题长期争吵，女方回娘家居住，男方多次上门吵闹。", (2, 4), (0, 0)),
    ("03", "宅基地界址纠纷", "两户建房时对院墙界址认识不一，一方已砌墙，另一方阻止施工。", (2, 8), (0, 20_000)),
    (
        "07",
        "山林边界纠纷",
        "两个村民小组对交界处山林权属有争议，双方各自组织人员砍伐，现场对峙。",
        (8, 40),
        (10_000, 300_000),
    ),
    ("10", "工资拖欠纠纷", "工地班组与包工头因工钱结算发生争议，工人多次到项目部讨要。", (5, 30), (20_000, 600_000)),
    ("04", "买卖合同纠纷", "店主与供货商因货款结算和退货问题争执，供货商扣押店内货物。", (2, 3), (8_000, 150_000)),
    ("06", "损害赔偿纠纷", "电动车与行人在小区内相撞，双方对医疗费和误工费赔偿金额分歧较大。", (2, 3), (3_000, 40_000)),
    ("15", "物业收费纠纷", "部分业主因物业服务不到位拒交物业费，物业公司停止门禁卡充值。", (6, 60), (10_000, 200_000)),
    ("08", "征地补偿纠纷", "部分村民对道路拓宽征地补偿标准有异议，阻止施工队进场。", (6, 35), (50_000, 2_000_000)),
    ("12", "消费纠纷", "顾客认为预付卡办理后门店服务缩水，要求退还余款，店方拒绝。", (2, 12), (1_000, 30_000)),
    ("99", "民间借贷纠纷", "借款到期后借款人拒不归还，出借人多次上门催讨，言语激烈。", (2, 3), (20_000, 300_000)),
];

/// One step of a planned dispute.
#[derive(Debug, Clone)]
enum DStep {
    Act(Box<zhufang_store::disputes::DisputeAction>),
    Plan(zhufang_store::disputes::PlanInput),
    /// Issued only if the dispute is orange or red by then.
    Notice(zhufang_store::disputes::NoticeInput),
    /// The user's body signs for the dispute's notices it has yet to sign.
    SignNotices,
}

impl DStep {
    fn act(a: zhufang_store::disputes::DisputeAction) -> Self {
        DStep::Act(Box::new(a))
    }
}

#[derive(Debug, Clone)]
struct DisputePlan {
    created_at: DateTime<Utc>,
    registrar: String,
    input: zhufang_store::disputes::CreateDispute,
    steps: Vec<(DateTime<Utc>, String, DStep)>,
}

/// Plans a month and more of the dispute ledger, to be worked through the
/// real service (workflow, colours, escalations, notices, plans, follow-ups)
/// in time order with the tasks.
fn plan_disputes(
    stations: &[Station],
    users: &HashMap<String, User>,
    names: &Names,
    rng: &mut StdRng,
    n: usize,
    now: DateTime<Utc>,
) -> Vec<DisputePlan> {
    use zhufang_store::disputes::{CreateDispute, DisputeAction, NoticeInput, PartyInput, PlanInput};
    use zhufang_store::model::{ChecklistItem, NewMediation};
    let mut out = vec![];
    if stations.is_empty() {
        return out;
    }
    for _ in 0..n {
        let st = &stations[rng.gen_range(0..stations.len())];
        let Some(d) = st.districts.choose(rng) else { continue };
        let (lat, lon) = jitter(d.centre, 0.5, rng);
        let (cat, title, text, (p0, p1), (a0, a1)) = DISPUTE_KINDS[rng.gen_range(0..DISPUTE_KINDS.len())];
        let created_at = now - Duration::seconds(rng.gen_range(3_600..45 * 86_400));
        let registrar = if rng.gen_bool(0.5) { d.aux.clone() } else { d.officer.clone() };
        let parties = vec![
            PartyInput {
                side: "applicant".into(),
                kind: "natural".into(),
                name: person_name(names, rng),
                phone: Some(format!("13{:09}", rng.gen_range(0..1_000_000_000u64))),
                id_number: None,
            },
            PartyInput {
                side: "respondent".into(),
                kind: "natural".into(),
                name: person_name(names, rng),
                phone: None,
                id_number: None,
            },
        ];
        let people = rng.gen_range(p0..=p1);
        let amount = if a1 > 0 { rng.gen_range(a0..=a1) / 100 * 100 } else { 0 };
        let source =
            ["home_visit", "patrol", "public_report", "self_report", "transferred", "grid_report"][rng.gen_range(0..6)];
        let input = CreateDispute {
            title: format!("{}{}", d.village, title),
            description: text.into(),
            category_code: cat.into(),
            source: source.into(),
            location: Wgs84Point::new(lat, lon).ok(),
            address: Some(format!("{}{}号", d.village, rng.gen_range(1..99))),
            parties,
            people_involved: Some(people),
            amount: Some(amount),
            incident_id: None,
            id_numbers_on: false,
        };
        let mut plan = DisputePlan { created_at, registrar, input, steps: vec![] };
        // how far it has come: a plausible while between steps, never past now
        let mut t = created_at;
        let mut at = |lo: i64, hi: i64, rng: &mut StdRng| {
            t += Duration::seconds(rng.gen_range(lo..hi));
            (t < now).then_some(t)
        };
        let act = |a: &str| DisputeAction { action: a.into(), ..Default::default() };
        let officer = d.officer.clone();
        let mut step = |at: DateTime<Utc>, who: &str, s: DStep| plan.steps.push((at, who.to_string(), s));
        'life: {
            if rng.gen_bool(0.1) {
                break 'life; // still to accept
            }
            let Some(when) = at(3_600, 86_400, rng) else { break 'life };
            let class = if people >= 20 || amount >= 500_000 {
                "C"
            } else if people >= 5 {
                "B"
            } else {
                "A"
            };
            step(when, &officer, DStep::act(DisputeAction { class: Some(class.into()), ..act("accept") }));
            if people >= 20 || amount >= 500_000 {
                if let Some(when) = at(600, 7_200, rng) {
                    let leader = users.get(&st.leader).map(|u| u.display_name.clone()).unwrap_or_default();
                    let me = users.get(&officer).map(|u| u.display_name.clone()).unwrap_or_default();
                    step(
                        when,
                        &officer,
                        DStep::Plan(PlanInput {
                            plan: "先稳控、后化解：派出所会同村（社区）和司法所联合调处，必要时报请镇（街道）牵头。"
                                .into(),
                            responsible: format!("{leader}、{me}"),
                            checklist: vec![
                                ChecklistItem { item: "当日上门了解双方诉求".into(), done: true },
                                ChecklistItem { item: "落实专人稳控".into(), done: true },
                                ChecklistItem { item: "组织联合调解会".into(), done: false },
                            ],
                        }),
                    );
                }
                let recipients: Vec<String> = [st.sifa.as_deref(), st.gov.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter_map(|u| users.get(u).map(|u| u.org_code.clone()))
                    .collect();
                if let Some(when) = at(600, 7_200, rng)
                    && !recipients.is_empty()
                {
                    step(
                        when,
                        &st.leader,
                        DStep::Notice(NoticeInput {
                            recipients,
                            actions: "请司法所牵头组织联合调解，镇（街道）协调相关部门共同做好稳控化解工作。".into(),
                            deadline: Some(when + Duration::days(3)),
                        }),
                    );
                    // the bodies sign for it within hours, mostly; now and then one is late
                    for body in [st.sifa.as_deref(), st.gov.as_deref()].into_iter().flatten() {
                        let hi = if rng.gen_bool(0.85) { 86_400 } else { 5 * 86_400 };
                        let when = when + Duration::seconds(rng.gen_range(1_800..hi));
                        if when < now {
                            step(when, body, DStep::SignNotices);
                        }
                    }
                }
            }
            let Some(when) = at(1_800, 2 * 86_400, rng) else { break 'life };
            step(when, &officer, DStep::act(act("start")));
            if rng.gen_bool(0.15) {
                break 'life; // a hard one, still being mediated
            }
            // a third of the village-level ones go up to the town's 司法所, which signs for them
            if class == "A"
                && rng.gen_bool(0.3)
                && let Some(sifa) = st.sifa.as_deref().and_then(|u| users.get(u))
                && let Some(when) = at(3_600, 86_400, rng)
            {
                let up = DisputeAction {
                    note: Some("村级调解未果，提请镇（街道）司法所组织调解".into()),
                    level: Some(2),
                    to_org: Some(sifa.org_code.clone()),
                    ..act("escalate")
                };
                step(when, &officer, DStep::act(up));
                if let Some(when) = at(1_800, 86_400, rng) {
                    step(when, &sifa.username, DStep::act(act("sign_for")));
                }
            }
            let Some(when) = at(86_400, 5 * 86_400, rng) else { break 'life };
            let settled = rng.gen_bool(0.8);
            let me = users.get(&officer).map(|u| u.display_name.clone()).unwrap_or_default();
            let session = NewMediation {
                held_at: when,
                mediators: format!("{me}、村（居）调解员"),
                place: format!("{}调解室", d.village),
                outcome: if settled { "settled" } else { "failed" }.into(),
                agreement: if settled {
                    "双方自愿达成调解协议，按约定履行。".into()
                } else {
                    String::new()
                },
            };
            step(when, &officer, DStep::act(DisputeAction { session: Some(session), ..act("session") }));
            if !settled {
                if let Some(when) = at(3_600, 86_400, rng) {
                    let note = Some("双方分歧较大，本次调解终止".into());
                    step(when, &officer, DStep::act(DisputeAction { note, ..act("terminate") }));
                }
                break 'life;
            }
            let Some(when) = at(600, 3_600, rng) else { break 'life };
            step(
                when,
                &officer,
                DStep::act(DisputeAction { note: Some("签订人民调解协议书".into()), ..act("succeed") }),
            );
            let Some(when) = at(86_400, 8 * 86_400, rng) else { break 'life };
            step(when, &officer, DStep::act(act("follow")));
            if let Some(when) = at(20 * 86_400, 30 * 86_400, rng) {
                step(when, &st.leader, DStep::act(act("archive")));
            }
        }
        out.push(plan);
    }
    out
}

/// Carries out one planned dispute step at its time.
async fn dispute_event(
    store: &dyn Store,
    flows: &zhufang_store::disputes::Flows<'_>,
    id: i64,
    u: &User,
    s: &DStep,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    use zhufang_store::disputes;
    let e = |e: zhufang_store::service::ServiceError| anyhow::anyhow!("demo dispute {id}: {e:?}");
    match s {
        DStep::Act(a) => {
            disputes::transition(store, flows, u, id, (**a).clone(), at).await.map_err(e)?;
        }
        DStep::Plan(p) => {
            disputes::save_plan(store, u, id, p.clone(), at).await.map_err(e)?;
        }
        DStep::SignNotices => {
            let f = zhufang_store::model::NoticeFilter { dispute_id: Some(id), ..Default::default() };
            let all = zhufang_store::model::PageReq { page: 1, per_page: 500 };
            for n in store.list_notices(&f, all).await?.items {
                if n.recipients.iter().any(|r| r.org_id == u.org_unit_id && r.signed_at.is_none()) {
                    disputes::sign_notice(store, u, n.id, Some("已收悉，正在组织落实".into()), at).await.map_err(e)?;
                }
            }
        }
        DStep::Notice(n) => {
            let d = store.dispute(id).await?.context("the dispute")?;
            if d.colour == "red" || d.colour == "orange" {
                disputes::issue_notice(store, u, id, n.clone(), at).await.map_err(e)?;
            }
        }
    }
    Ok(())
}
