use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use zhufang::{Running, Settings};
use zhufang_store::Store;

pub struct TestApp {
    pub base: String,
    pub running: Option<Running>,
    pub store: Arc<dyn Store>,
    pub db_url: String,
    pub dir: PathBuf,
    pg_drop: Option<(String, String)>,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), rand::random::<u32>())
}

/// Creates a fresh database: a temp SQLite file, or a new PostgreSQL database.
pub async fn fresh_db(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match std::env::var("ZHUFANG_TEST_PG") {
        Ok(base) if !base.is_empty() => {
            use sqlx::Connection;
            let name = unique("zf_it");
            let mut c = sqlx::PgConnection::connect(&base).await.expect("connect ZHUFANG_TEST_PG");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .expect("create db");
            let (head, _) = base.rsplit_once('/').expect("url with a database");
            (format!("{head}/{name}"), Some((base.clone(), name)))
        }
        _ => (format!("sqlite://{}", dir.join("zhufang.db").display()), None),
    }
}

impl TestApp {
    /// The demo city without task history: bureau, stations, every demo account.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// The demo city without its grids (for the grid import tests).
    pub async fn spawn_without_grids() -> TestApp {
        Self::spawn_opts(false, |_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_opts(true, tweak).await
    }

    async fn spawn_opts(grids: bool, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = std::env::temp_dir().join(unique("zhufang-it"));
        std::fs::create_dir_all(&dir).unwrap();
        let (db_url, pg_drop) = fresh_db(&dir).await;
        let store = zhufang::open_store(&db_url).await.expect("open store");
        let opts = zhufang_demo::SeedOptions { tasks: 0, grids, ..Default::default() };
        zhufang::prepare_demo_with(store.as_ref(), opts).await.expect("seed");
        let mut settings = Settings::resolve(
            zhufang::FileConfig::default(),
            Some(dir.clone()),
            Some(db_url.clone()),
            Some("127.0.0.1:0".into()),
        )
        .unwrap();
        settings.scan_interval = std::time::Duration::from_secs(3600);
        // tests generate duties when they mean to (POST /api/v1/duty-templates/generate)
        settings.web.duty_window_days = 0;
        tweak(&mut settings);
        let running = zhufang::start(store.clone(), &settings).await.expect("start");
        TestApp { base: format!("http://{}", running.addr), running: Some(running), store, db_url, dir, pg_drop }
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((base, name)) = self.pg_drop.take() {
            use sqlx::Connection;
            drop(self.store);
            if let Ok(mut c) = sqlx::PgConnection::connect(&base).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut c)
                    .await;
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs in through the API; returns a client that sends the bearer token.
    pub async fn login(&self, username: &str) -> Api {
        self.login_pw(username, "demo").await.expect("login")
    }

    pub async fn login_pw(&self, username: &str, password: &str) -> Result<Api, (StatusCode, Value)> {
        let c = Client::new();
        let r = c
            .post(self.url("/api/v1/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        if status != StatusCode::OK {
            return Err((status, body));
        }
        Ok(Api {
            base: self.base.clone(),
            token: body["token"].as_str().unwrap().to_string(),
            c,
            user: body["user"].clone(),
        })
    }
}

/// An API client with a bearer token.
pub struct Api {
    pub base: String,
    pub token: String,
    pub c: Client,
    pub user: Value,
}

pub async fn body(r: Response) -> (StatusCode, Value) {
    let s = r.status();
    let text = r.text().await.unwrap();
    (s, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

impl Api {
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        body(self.c.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap()).await
    }
    pub async fn post(&self, path: &str, v: Value) -> (StatusCode, Value) {
        body(self.c.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&v).send().await.unwrap()).await
    }
    pub async fn put(&self, path: &str, v: Value) -> (StatusCode, Value) {
        body(self.c.put(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&v).send().await.unwrap()).await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        body(self.c.delete(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap()).await
    }
    pub async fn act(&self, id: i64, v: Value) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/tasks/{id}/transitions"), v).await
    }
    /// A transition as multipart/form-data (with photos).
    pub async fn act_multipart(&self, id: i64, form: reqwest::multipart::Form) -> (StatusCode, Value) {
        let url = format!("{}/api/v1/tasks/{id}/transitions", self.base);
        body(self.c.post(url).bearer_auth(&self.token).multipart(form).send().await.unwrap()).await
    }
    /// A multipart POST to any API path.
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        body(self.c.post(url).bearer_auth(&self.token).multipart(form).send().await.unwrap()).await
    }
    /// GET raw bytes (status, content type, body).
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let r = self.c.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        (r.status(), ct, r.bytes().await.unwrap().to_vec())
    }
    pub async fn create_task(&self, title: &str, org: &str) -> i64 {
        let (s, v) = self
            .post("/api/v1/tasks", json!({"title": title, "catalogue_code": "ZF-XF-001", "org_unit": org, "description": "测试任务", "location": {"lat": 28.01, "lon": 116.3}}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_i64().unwrap()
    }
    pub async fn state(&self, id: i64) -> String {
        let (s, v) = self.get(&format!("/api/v1/tasks/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["state"].as_str().unwrap().to_string()
    }
}

pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// A browser-like session: cookie jar plus the page's CSRF token.
pub async fn page_session(app: &TestApp, username: &str) -> (Client, String) {
    let jar = Client::builder().cookie_store(true).build().unwrap();
    let r = jar.post(app.url("/login")).form(&[("username", username), ("password", "demo")]).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let html = jar.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let csrf = html.split("\"x-csrf-token\": \"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (jar, csrf)
}

/// Files (not folders) below a directory.
pub fn files_under(p: &std::path::Path) -> usize {
    std::fs::read_dir(p)
        .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

/// Runs one statement directly on the test database (to tamper with it).
pub async fn db_exec(url: &str, sql: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("postgres") {
        sqlx::query(sql).execute(&mut sqlx::PgConnection::connect(url).await.unwrap()).await.unwrap();
    } else {
        sqlx::query(sql).execute(&mut sqlx::SqliteConnection::connect(url).await.unwrap()).await.unwrap();
    }
}

/// `SELECT COUNT(*) … WHERE … = $1` directly on the test database.
pub async fn db_count(url: &str, sql: &'static str, arg: &str) -> i64 {
    use sqlx::Connection;
    let (n,): (i64,) = if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).bind(arg).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).bind(arg).fetch_one(&mut c).await.unwrap()
    };
    n
}

/// One number from a query written in the test (COUNT(*) …).
pub async fn db_scalar(url: &str, sql: &str) -> i64 {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    let (n,): (i64,) = if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_one(&mut c).await.unwrap()
    };
    n
}

/// The text of one part of an Office file (a zip): e.g. `xl/sharedStrings.xml`
/// of a workbook or `word/document.xml` of a DOCX.
pub fn office_part(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip (Office) file");
    let mut s = String::new();
    z.by_name(name).expect("the part is there").read_to_string(&mut s).unwrap();
    s
}
