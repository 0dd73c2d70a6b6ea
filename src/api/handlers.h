/*
 * handlers.h - every handler the route table (router.c) names: handlers_core.c (health,
 * OpenAPI document), handlers_health.c (readiness), handlers_metrics.c, handlers_alerts.c,
 * handlers_incidents.c, handlers_silences.c, handlers_instances.c (instances, users),
 * handlers_ingest.c (push ingest), handlers_stats.c (stats, on-call), handlers_web.c (the
 * dashboard page and its script and style).
 */
#ifndef SW_HANDLERS_H
#define SW_HANDLERS_H

#include "api/api.h"

api_handler_fn api_healthz;
api_handler_fn api_readyz;
api_handler_fn api_metrics;
api_handler_fn api_openapi;
api_handler_fn api_dashboard;
api_handler_fn api_web_js;
api_handler_fn api_web_css;
api_handler_fn api_alerts_list;
api_handler_fn api_alerts_get;
api_handler_fn api_alerts_ack;
api_handler_fn api_alerts_resolve;
api_handler_fn api_incidents_list;
api_handler_fn api_incidents_get;
api_handler_fn api_incidents_ack;
api_handler_fn api_incidents_resolve;
api_handler_fn api_silences_list;
api_handler_fn api_silences_create;
api_handler_fn api_silences_delete;
api_handler_fn api_instances_get;
api_handler_fn api_users_get;
api_handler_fn api_stats_funnel;
api_handler_fn api_stats_tat;
api_handler_fn api_stats_segments;
api_handler_fn api_stats_alerts;
api_handler_fn api_oncall;
api_handler_fn api_notifications_list;
api_handler_fn api_step_records_push;

#endif
