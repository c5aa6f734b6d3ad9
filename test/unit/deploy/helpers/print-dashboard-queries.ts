/**
 * Prints the dashboard's queries (Grafana variables substituted) as JSON for deploy/check.sh, which
 * hands them to Prometheus' own parser (deploy/prometheus/rulecheck -exprs).
 * Usage: node test/unit/deploy/helpers/print-dashboard-queries.ts [dashboard.json]
 */
import { dashboardQueries, loadDashboard } from './queries.ts';

process.stdout.write(`${JSON.stringify(dashboardQueries(loadDashboard(process.argv[2])), null, 1)}\n`);
