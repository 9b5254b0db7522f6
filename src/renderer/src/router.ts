/** Hash history: works from file:// in Electron and from the token URL in web mode. */
import { createRouter, createWebHashHistory } from 'vue-router';

export const NAV = [
  { path: '/library', name: 'library', label: 'Library' },
  { path: '/compare', name: 'compare', label: 'Compare' },
  { path: '/train', name: 'train', label: 'Train' },
  { path: '/runs', name: 'runs', label: 'Runs' },
  { path: '/models', name: 'models', label: 'Models' },
  { path: '/export', name: 'export', label: 'Export' },
  { path: '/settings', name: 'settings', label: 'Settings' },
] as const;

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/library' },
    { path: '/library', name: 'library', component: () => import('./views/LibraryView.vue') },
    { path: '/compare', name: 'compare', component: () => import('./views/CompareView.vue') },
    { path: '/train', name: 'train', component: () => import('./views/TrainView.vue') },
    { path: '/runs', name: 'runs', component: () => import('./views/RunsView.vue') },
    { path: '/models', name: 'models', component: () => import('./views/ModelsView.vue') },
    { path: '/export', name: 'export', component: () => import('./views/ExportView.vue') },
    { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue') },
    { path: '/:rest(.*)*', redirect: '/library' },
  ],
});
