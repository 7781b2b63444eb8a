/// The live dashboard served at `GET /dashboard`: plain HTML + JavaScript, no build step, embedded in the
/// binary so an installed service needs no resource files. It polls the read-only JSON endpoints of this
/// service (or of every service in `dashboard_services`, which allow any origin).
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html><head><meta charset="utf-8"><title>dashboard</title></head>
<body><h1>Dashboard</h1><p>Placeholder: the page is being written.</p></body></html>
"""#
}
