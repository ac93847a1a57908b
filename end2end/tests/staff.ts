// The staff account the admin test logs in with; the web server creates it before starting.
export const staffEmail = 'e2e-staff@example.com';
export const staffPassword = 'e2e staff password';
