-- pg_product_analytics: product analytics as native aggregate and window functions.
-- Assembled from src/sql/*.sql by the Makefile; edit those files, not the generated script.
\echo Use "CREATE EXTENSION pg_product_analytics" to load this file. \quit
