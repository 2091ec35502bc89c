//! Embeds the browser libraries (htmx, Leaflet, ECharts, Swagger UI) that `web/package.json` pins (installed with
//! `npm ci --prefix web`). Nothing third-party is committed; nothing is
//! fetched at run time.

use std::path::PathBuf;

const VENDOR: &[(&str, &str)] = &[
    ("htmx.org/dist/htmx.min.js", "htmx.min.js"),
    ("leaflet/dist/leaflet.js", "leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet.css"),
    ("echarts/dist/echarts.min.js", "echarts.min.js"),
    ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"),
    ("swagger-ui-dist/swagger-ui.css", "swagger-ui.css"),
];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../web/node_modules");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("vendor");
    std::fs::create_dir_all(&out).unwrap();
    println!("cargo:rerun-if-changed=../../web/package-lock.json");
    for (src, name) in VENDOR {
        let path = root.join(src);
        println!("cargo:rerun-if-changed={}", path.display());
        if !path.exists() {
            panic!("missing {}: run `npm ci --prefix web` first (the README's commands do this)", path.display());
        }
        std::fs::copy(&path, out.join(name)).unwrap();
    }
}
