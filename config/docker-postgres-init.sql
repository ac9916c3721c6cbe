-- Runs once, when the docker-compose PostgreSQL volume is first created. The
-- image's own user is a superuser, which passes row-level security; the
-- service gets an ordinary role that owns its database instead.
CREATE ROLE clientvolg_app LOGIN PASSWORD 'clientvolg_app' NOSUPERUSER NOBYPASSRLS;
CREATE DATABASE clientvolg OWNER clientvolg_app;
