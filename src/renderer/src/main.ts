import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { router } from './router';
import { sessionReady } from './api';
import { useNotify } from './stores/notify';
import './styles.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);
app.use(router);

// Anything that escapes a view still reaches the user, never the console as an error.
const notify = useNotify(pinia);
app.config.errorHandler = (err) => notify.error(err);
window.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  notify.error(e.reason);
});

// A file dropped outside the import zone must not navigate the window to it.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());

// Media URLs need the session's media key: mount once it is known.
void sessionReady.then(() => app.mount('#app'));
