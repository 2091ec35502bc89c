//! The ledgers' Excel exports share one shape: a named sheet, a bold header
//! row with column widths, frozen under the header, an autofilter, and a
//! dated attachment name. Each export only says its columns and rows.

use crate::error::AppError;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One cell of a row.
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

fn xe(e: XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

/// A workbook of one ledger sheet being filled.
pub struct Ledger {
    wb: Workbook,
    row: u32,
    cols: u16,
}

impl Ledger {
    /// A sheet named `sheet` with its header (name, width) columns.
    pub fn new(sheet: &str, cols: &[(&str, f64)]) -> Result<Self, AppError> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(sheet).map_err(xe)?;
        let head = Format::new().set_bold().set_background_color(rust_xlsxwriter::Color::RGB(0xDCE6F2));
        for (i, (name, width)) in cols.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, *name, &head).map_err(xe)?;
            ws.set_column_width(i as u16, *width).map_err(xe)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xe)?;
        Ok(Self { wb, row: 1, cols: cols.len() as u16 })
    }

    /// Rows written so far (the header included).
    pub fn rows(&self) -> u32 {
        self.row
    }

    pub fn push(&mut self, cells: impl IntoIterator<Item = Cell>) -> Result<(), AppError> {
        let ws = self.wb.worksheet_from_index(0).map_err(xe)?;
        for (c, v) in cells.into_iter().enumerate() {
            match v {
                Cell::Text(s) => ws.write_string(self.row, c as u16, s).map(|_| ()),
                Cell::Number(n) => ws.write_number(self.row, c as u16, n).map(|_| ()),
                Cell::Empty => Ok(()),
            }
            .map_err(xe)?;
        }
        self.row += 1;
        Ok(())
    }

    /// The workbook as a download named `zhufang-{stem}-YYYYMMDD.xlsx`.
    pub fn finish(mut self, stem: &str) -> Result<Response, AppError> {
        let (last_row, last_col) = (self.row.saturating_sub(1).max(1), self.cols.saturating_sub(1));
        self.wb.worksheet_from_index(0).map_err(xe)?.autofilter(0, 0, last_row, last_col).map_err(xe)?;
        let buf = self.wb.save_to_buffer().map_err(xe)?;
        let name = format!("zhufang-{stem}-{}.xlsx", zhufang_domain::calendar::local_date(Utc::now()).format("%Y%m%d"));
        Ok((
            [
                ("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
                ("content-disposition", format!("attachment; filename=\"{name}\"")),
            ],
            buf,
        )
            .into_response())
    }
}
