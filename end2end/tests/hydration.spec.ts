import { test, expect } from './fixtures';

test('the home page renders on the server and becomes interactive', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Leptos + Clerk starter');

  const probe = page.getByTestId('hydration-probe');
  await expect(probe).toHaveText('Clicked 0 times');
  await expect(probe).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  await probe.click();
  await expect(probe).toHaveText('Clicked 1 times');
  await probe.click();
  await expect(probe).toHaveText('Clicked 2 times');
});
