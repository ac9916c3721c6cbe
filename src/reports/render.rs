//! Reports for spreadsheets: one long CSV with a `table` column, or JSON.

use super::{Table, Value};

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// `table,row,column,value` lines, one per cell, after a header line. Long
/// form keeps every table in one file that a spreadsheet can pivot.
pub fn csv(tables: &[Table]) -> String {
    let mut out = String::from("table,row,column,value\n");
    for table in tables {
        for row in &table.rows {
            for (column, value) in table.columns.iter().zip(&row.values) {
                let value = match value {
                    Value::Count(n) => n.to_string(),
                    Value::Number(x) => format!("{x:.4}"),
                    Value::Missing => String::new(),
                };
                out.push_str(&format!(
                    "{},{},{},{}\n",
                    quote(table.name),
                    quote(&row.label),
                    quote(column),
                    value
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::Row;

    #[test]
    fn csv_is_long_form_and_quoted() {
        let table = Table {
            name: "4_doelgroepen",
            title: "Doelgroepen",
            columns: vec!["doorverwezen", "bestand"],
            rows: vec![Row {
                label: "a,b".into(),
                values: vec![Value::Count(3), Value::Missing],
            }],
        };
        assert_eq!(
            csv(&[table]),
            "table,row,column,value\n4_doelgroepen,\"a,b\",doorverwezen,3\n4_doelgroepen,\"a,b\",bestand,\n"
        );
    }
}
