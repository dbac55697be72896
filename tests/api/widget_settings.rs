//! The team's widget settings (`GET/PATCH /api/v1/team/widget`), allowed origins and CORS.
