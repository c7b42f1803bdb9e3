/**
 * The "could not start" banner on top of a tritonml sidebar. The sidebars are React widgets that own
 * their node's children; the banner is one more child, put back if a render ever removes it.
 */
import { Widget } from '@lumino/widgets';

const BANNER_CLASS = 'tml-StartupBanner';

export function addBanner(widget: Widget, text: string): void {
  const node = widget.node;
  if (node.querySelector(`:scope > .${BANNER_CLASS}`)) {
    return;
  }
  const banner = document.createElement('div');
  banner.className = `${BANNER_CLASS} tml-Banner tml-Banner--error`;
  banner.setAttribute('role', 'alert');
  banner.textContent = text;
  const ensure = () => {
    if (banner.parentNode !== node) {
      node.prepend(banner);
    }
  };
  ensure();
  new MutationObserver(ensure).observe(node, { childList: true });
  widget.addClass('tml-mod-notStarted');
}
