//! Entry point: everything lives in the library so tests and benchmarks share it.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(crm_notes::cli::main())
}
