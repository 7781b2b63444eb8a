/// The live dashboard served at `GET /dashboard`: plain HTML + JavaScript, no build step, in
/// `Resources/dashboard.html`, embedded in the binary by SwiftPM so an installed service needs no resource files.
/// It polls the read-only JSON endpoints of this service (or of every service in `dashboard_services`, which
/// allow any origin). No external resources:
/// charts are drawn on `<canvas>`; every value shown comes from the service's own endpoints. Paths are
/// relative (`health`, not `/health`) so the page also works behind a proxy that adds a path prefix.
/// Element ids and `data-*` attributes are stable: `scripts/dashboard_check` reads them. See docs/dashboard.md.
enum DashboardPage {
    static let html = String(decoding: PackageResources.dashboard_html, as: UTF8.self)
}
